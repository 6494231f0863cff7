import type { KubernetesObject, V1ConfigMap, V1Deployment, V1Pod, V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  type Color,
  encodeRecord,
  type PendingSwitch,
  type ReleaseRecord,
  type ReleaseRevision,
  recordLabels,
  recordName,
} from '../../src/release/record.ts';
import { check, cleanContainer } from './fixtures.ts';

const NOW = new Date('2026-11-21T12:00:00Z');
const ago = (ms: number) => new Date(NOW.getTime() - ms).toISOString();
const MIN = 60_000;
const HOUR = 3_600_000;

function pod(name: string, status: V1Pod['status']): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'shop',
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'api-1', uid: 'u' }],
    },
    spec: { containers: [{ name: 'web', image: 'api:1' }] },
    status,
  };
}

function crashing(restarts: number, reason: string, finishedAgo: number, waiting?: string): V1Pod {
  return pod('api-1-x', {
    phase: 'Running',
    containerStatuses: [
      {
        name: 'web',
        image: 'api:1',
        imageID: '',
        ready: false,
        restartCount: restarts,
        ...(waiting ? { state: { waiting: { reason: waiting } } } : { state: { running: {} } }),
        lastState: {
          terminated: {
            exitCode: reason === 'OOMKilled' ? 137 : 1,
            reason,
            finishedAt: new Date(NOW.getTime() - finishedAgo),
          },
        },
      },
    ],
  });
}

function notReady(forMs: number, phase = 'Running'): V1Pod {
  return pod('api-1-y', {
    phase,
    conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: new Date(NOW.getTime() - forMs) }],
    containerStatuses: [
      {
        name: 'web',
        image: 'api:1',
        imageID: '',
        ready: false,
        restartCount: 0,
        state: { waiting: { reason: 'ContainerCreating' } },
      },
    ],
  });
}

function colour(color: Color, replicas: number, image = 'registry.example.com/shop/api:1.0.0'): V1Deployment {
  const labels = { 'greenlight.dev/app': 'api', 'greenlight.dev/color': color };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: `api-${color}`, namespace: 'shop', labels },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [cleanContainer({ image })] } },
    },
  };
}

function activeService(color: Color): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'api', namespace: 'shop' },
    spec: { selector: { 'greenlight.dev/app': 'api', 'greenlight.dev/color': color } },
  };
}

function revision(
  number: number,
  color: Color,
  status: ReleaseRevision['status'],
  updatedAgo: number,
  extra: Partial<ReleaseRevision> = {},
): ReleaseRevision {
  return {
    revision: number,
    color,
    status,
    deployment: `api-${color}`,
    images: [
      { repository: 'registry.example.com/shop/api', reference: 'registry.example.com/shop/api:1.0.0' },
    ],
    createdAt: ago(updatedAgo),
    updatedAt: ago(updatedAgo),
    ready: true,
    gates: [],
    ...extra,
  };
}

function recordMap(revisions: ReleaseRevision[], switching?: PendingSwitch): V1ConfigMap {
  const record: ReleaseRecord = {
    app: 'api',
    environment: 'production',
    namespace: 'shop',
    historyLimit: 10,
    revisions,
    ...(switching ? { switching } : {}),
  };
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: recordName('api', 'production'),
      namespace: 'shop',
      labels: recordLabels('api', 'production'),
    },
    data: encodeRecord(record),
  };
}

const live = (ruleId: string, objects: KubernetesObject[]) =>
  check(ruleId, objects, { mode: 'live', now: NOW });

describe('live rules', () => {
  describe('GL-LIVE-001 crash loops', () => {
    it.each([
      [
        'many restarts, in CrashLoopBackOff now',
        crashing(12, 'Error', 2 * HOUR, 'CrashLoopBackOff'),
        1,
        'restarted 12 times',
      ],
      ['OOM-killed an hour ago', crashing(1, 'OOMKilled', HOUR), 1, 'OOM-killed'],
      ['many restarts, the last one recent', crashing(40, 'Error', 10 * MIN), 1, 'exit 1'],
      ['few restarts', crashing(2, 'Error', 10 * MIN), 0, ''],
      ['many restarts long ago, stable since', crashing(40, 'Error', 3 * 24 * HOUR), 0, ''],
    ])('%s', (_name, object, count, words) => {
      const findings = live('GL-LIVE-001', [object]);
      expect(findings).toHaveLength(count);
      if (count > 0) expect(findings[0]?.message).toContain(words);
    });

    it('fingerprints a pod by its owner, so a baseline survives pod restarts', () => {
      const first = live('GL-LIVE-001', [crashing(12, 'Error', MIN, 'CrashLoopBackOff')])[0];
      const replaced = crashing(12, 'Error', MIN, 'CrashLoopBackOff');
      replaced.metadata = { ...replaced.metadata, name: 'api-1-other' };
      const second = live('GL-LIVE-001', [replaced])[0];
      expect(second?.object.name).toBe('api-1-other');
      expect(second?.fingerprint).toBe(first?.fingerprint);
    });

    it('is not run on files', () => {
      expect(check('GL-LIVE-001', [crashing(12, 'Error', MIN, 'CrashLoopBackOff')], { now: NOW })).toEqual(
        [],
      );
    });
  });

  describe('GL-LIVE-002 pods not ready', () => {
    it.each([
      ['unready for 20 minutes', notReady(20 * MIN), 1],
      ['unready for a minute', notReady(MIN), 0],
      ['a finished pod', notReady(HOUR, 'Succeeded'), 0],
    ])('%s', (_name, object, count) => expect(live('GL-LIVE-002', [object])).toHaveLength(count));
  });

  describe('GL-LIVE-003 leftover candidate', () => {
    it('fires on a scaled-up colour that no record names', () => {
      const findings = live('GL-LIVE-003', [colour('blue', 3), colour('green', 2), activeService('blue')]);
      expect(findings).toHaveLength(1);
      expect(findings[0]?.object.name).toBe('api-green');
      expect(findings[0]?.message).toContain('no release record names it');
    });

    it('fires on a candidate never promoted within the grace time', () => {
      const record = recordMap([
        revision(1, 'blue', 'active', 5 * 24 * HOUR),
        revision(2, 'green', 'candidate', 3 * 24 * HOUR),
      ]);
      const findings = live('GL-LIVE-003', [
        colour('blue', 3),
        colour('green', 3),
        activeService('blue'),
        record,
      ]);
      expect(findings).toHaveLength(1);
      expect(findings[0]?.message).toContain('never promoted');
    });

    it('fires on a failed candidate left up, and says why it failed', () => {
      const record = recordMap([
        revision(1, 'blue', 'active', 5 * HOUR),
        revision(2, 'green', 'failed', HOUR, { reason: 'readiness gate timed out' }),
      ]);
      const findings = live('GL-LIVE-003', [
        colour('blue', 3),
        colour('green', 3),
        activeService('blue'),
        record,
      ]);
      expect(findings).toHaveLength(1);
      expect(findings[0]?.message).toContain(
        'its last revision on green, 2, is failed (readiness gate timed out)',
      );
    });

    it('reads only the record ConfigMap, not other ConfigMaps with the same labels', () => {
      const base = recordMap([]);
      const config = {
        ...base,
        metadata: { ...base.metadata, name: 'api-config-1234' },
        data: { GREETING: 'hi' },
      };
      expect(live('GL-LIVE-005', [config])).toEqual([]);
    });

    it.each([
      [
        'a recent candidate',
        [revision(1, 'blue', 'active', 5 * HOUR), revision(2, 'green', 'candidate', HOUR)],
        3,
      ],
      ['the idle colour scaled to zero', [revision(1, 'blue', 'active', 5 * HOUR)], 0],
      [
        'the previous colour kept for rollback',
        [revision(1, 'green', 'previous', 5 * HOUR), revision(2, 'blue', 'active', HOUR)],
        3,
      ],
    ])('stays quiet for %s', (_name, revisions, greenReplicas) => {
      const objects = [
        colour('blue', 3),
        colour('green', greenReplicas),
        activeService('blue'),
        recordMap(revisions),
      ];
      expect(live('GL-LIVE-003', objects)).toEqual([]);
    });
  });

  describe('GL-LIVE-004 old colour still up', () => {
    it('fires when the previous colour is up long after the promotion', () => {
      const record = recordMap([
        revision(1, 'green', 'previous', 3 * 24 * HOUR),
        revision(2, 'blue', 'active', 3 * 24 * HOUR, { promotedAt: ago(3 * 24 * HOUR) }),
      ]);
      const findings = live('GL-LIVE-004', [
        colour('blue', 3),
        colour('green', 3),
        activeService('blue'),
        record,
      ]);
      expect(findings).toHaveLength(1);
      expect(findings[0]?.message).toContain('72 h after the promotion of blue');
    });
    it('stays quiet right after a promotion', () => {
      const record = recordMap([
        revision(1, 'green', 'previous', HOUR),
        revision(2, 'blue', 'active', HOUR, { promotedAt: ago(HOUR) }),
      ]);
      expect(
        live('GL-LIVE-004', [colour('blue', 3), colour('green', 3), activeService('blue'), record]),
      ).toEqual([]);
    });
  });

  describe('GL-LIVE-005 drift', () => {
    const record = () => recordMap([revision(1, 'blue', 'active', HOUR)]);
    it('fires when the Service selects another colour than the record', () => {
      const findings = live('GL-LIVE-005', [
        colour('blue', 3),
        colour('green', 3),
        activeService('green'),
        record(),
      ]);
      expect(findings).toHaveLength(1);
      expect(findings[0]?.message).toContain('selects colour green');
    });
    it('fires when the active Deployment runs another image than recorded', () => {
      const findings = live('GL-LIVE-005', [
        colour('blue', 3, 'registry.example.com/shop/api:1.0.1'),
        activeService('blue'),
        record(),
      ]);
      expect(findings).toHaveLength(1);
      expect(findings[0]?.field).toBe('spec.template.spec.containers[web].image');
    });
    it('fires when an interrupted switch left its note in the record', () => {
      const noted = recordMap(
        [revision(1, 'blue', 'active', HOUR), revision(2, 'green', 'candidate', HOUR)],
        {
          action: 'promote',
          revision: 2,
          color: 'green',
          from: 1,
          route: 'service',
          holder: 'github:shop/api/runs/7/attempts/1',
          startedAt: ago(HOUR),
        },
      );
      const findings = live('GL-LIVE-005', [
        colour('blue', 3),
        colour('green', 3),
        activeService('blue'),
        noted,
      ]);
      expect(findings).toHaveLength(1);
      expect(findings[0]?.message).toContain('notes a promote to revision 2 on green');
      expect(findings[0]?.message).toContain('github:shop/api/runs/7/attempts/1');
    });
    const ingressTo = (...services: string[]): KubernetesObject =>
      ({
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: { name: 'shop', namespace: 'shop' },
        spec: {
          rules: services.map((name) => ({
            http: {
              paths: [
                { path: '/', pathType: 'Prefix', backend: { service: { name, port: { number: 80 } } } },
              ],
            },
          })),
        },
      }) as KubernetesObject;
    it('judges an app routed by an Ingress by the Ingress, not by its active Service', () => {
      const objects = [colour('blue', 3), colour('green', 3), activeService('green'), record()];
      expect(live('GL-LIVE-005', [...objects, ingressTo('api-blue', 'frontend')])).toEqual([]);
      const drift = live('GL-LIVE-005', [...objects, ingressTo('api-green')]);
      expect(drift).toHaveLength(1);
      expect(drift[0]?.message).toContain('Ingress shop/shop routes to api-green, but the release record');
      expect(live('GL-LIVE-005', [...objects, ingressTo('api-blue', 'api-green')])[0]?.message).toContain(
        'routes to api-blue and api-green',
      );
    });
    it('fires when the record cannot be read', () => {
      const broken = { ...record(), data: { 'release.json': '{' } };
      expect(live('GL-LIVE-005', [broken])[0]?.message).toContain('cannot be read');
    });
    it('stays quiet when the cluster matches the record', () => {
      expect(
        live('GL-LIVE-005', [colour('blue', 3), colour('green', 0), activeService('blue'), record()]),
      ).toEqual([]);
    });
  });
});
