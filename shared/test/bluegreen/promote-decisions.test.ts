import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { decideAbort, markAborted } from '../../src/bluegreen/abort.ts';
import {
  decideEnvironmentPromotion,
  decidePromotion,
  digestOf,
  failuresToFail,
  markPromoted,
  markVerificationFailed,
  verifyInterval,
} from '../../src/bluegreen/promote.ts';
import {
  decideRollback,
  deploymentDigests,
  markRolledBack,
  podTrouble,
  runsRevision,
} from '../../src/bluegreen/rollback.ts';
import type { GateSpec } from '../../src/health/spec.ts';
import {
  type Color,
  emptyRecord,
  type ReleaseRecord,
  type ReleaseRevision,
  type RevisionStatus,
} from '../../src/release/record.ts';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const D3 = `sha256:${'3'.repeat(64)}`;

function revision(
  n: number,
  color: Color,
  status: RevisionStatus,
  digest: string,
  ready = true,
): ReleaseRevision {
  return {
    revision: n,
    color,
    status,
    deployment: `api-${color}`,
    images: [{ repository: 'registry:5000/shop/api', digest, reference: `registry:5000/shop/api@${digest}` }],
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ready,
    gates: [],
    replicas: 3,
  };
}

function record(...revisions: ReleaseRevision[]): ReleaseRecord {
  return { ...emptyRecord('api', 'production', 'shop'), revisions };
}

const statuses = (r: ReleaseRecord) => r.revisions.map((x) => `${x.revision}:${x.color}:${x.status}`);

describe('decidePromotion', () => {
  it('promotes a ready candidate', () => {
    const d = decidePromotion(
      record(revision(1, 'blue', 'active', D1), revision(2, 'green', 'candidate', D2)),
    );
    expect(d.kind).toBe('promote');
    if (d.kind === 'promote') {
      expect(d.candidate.revision).toBe(2);
      expect(d.active?.revision).toBe(1);
    }
  });

  it.each<[string, ReleaseRecord, string | undefined, string, RegExp]>([
    ['nothing deployed', record(), undefined, 'refuse', /nothing to promote/],
    ['only a live revision (a re-run)', record(revision(1, 'blue', 'active', D1)), undefined, 'nothing', /./],
    [
      'a candidate that failed its gates',
      record(revision(1, 'blue', 'active', D1), {
        ...revision(2, 'green', 'candidate', D2, false),
        reason: 'http 500',
      }),
      undefined,
      'refuse',
      /did not pass its health gates at deploy \(http 500\)/,
    ],
    [
      'a wrong expected digest',
      record(revision(1, 'blue', 'active', D1), revision(2, 'green', 'candidate', D2)),
      D3,
      'refuse',
      /runs sha256:2{64}, not the expected sha256:3{64}/,
    ],
    [
      'an expected digest that is not a digest',
      record(revision(2, 'green', 'candidate', D2)),
      'latest',
      'refuse',
      /is not a digest/,
    ],
  ])('with %s', (_name, rec, expected, kind, text) => {
    const d = decidePromotion(rec, expected);
    expect(d.kind).toBe(kind);
    if (d.kind === 'refuse') expect(d.reason).toMatch(text);
  });

  it('accepts the expected digest as a bare digest or name@digest', () => {
    const rec = record(revision(2, 'green', 'candidate', D2));
    expect(decidePromotion(rec, D2).kind).toBe('promote');
    expect(decidePromotion(rec, `registry:5000/shop/api@${D2}`).kind).toBe('promote');
  });
});

describe('record transitions', () => {
  it('promotion: candidate turns active, active turns previous, older previous retires', () => {
    const before = record(
      revision(1, 'green', 'previous', D1),
      revision(2, 'blue', 'active', D2),
      revision(3, 'green', 'candidate', D3),
    );
    const after = markPromoted(before, 3, new Date('2026-02-02T00:00:00Z'));
    expect(statuses(after)).toEqual(['1:green:retired', '2:blue:previous', '3:green:active']);
    expect(after.revisions[2]?.promotedAt).toBe('2026-02-02T00:00:00.000Z');
  });

  it('failed verification: the candidate is marked failed with the reason, the live revision untouched', () => {
    const before = record(revision(1, 'blue', 'active', D1), revision(2, 'green', 'candidate', D2));
    const after = markVerificationFailed(before, 2, 'error rate 0.4 above max 0.05');
    expect(statuses(after)).toEqual(['1:blue:active', '2:green:failed']);
    expect(after.revisions[1]?.reason).toBe('error rate 0.4 above max 0.05');
    expect(after.revisions[1]?.ready).toBe(false);
  });

  it('rollback: the previous revision is active again and the rolled-back one is kept as previous', () => {
    const before = record(revision(1, 'blue', 'previous', D1), revision(2, 'green', 'active', D2));
    const after = markRolledBack(before, 2, 1, 'rolled back by someone', 'github:shop/api/runs/5/attempts/1');
    expect(statuses(after)).toEqual(['1:blue:active', '2:green:previous']);
    expect(after.revisions[1]?.reason).toBe('rolled back by someone');
    expect(after.revisions[0]?.rolledBackBy).toBe('github:shop/api/runs/5/attempts/1');
    // A promote afterwards makes another revision active; it carries no rollback mark.
    const promoted = markPromoted(after, 2);
    expect(statuses(promoted)).toEqual(['1:blue:previous', '2:green:active']);
    expect(promoted.revisions[1]?.rolledBackBy).toBeUndefined();
  });

  it('abort: the candidate retires with the reason', () => {
    const after = markAborted(
      record(revision(1, 'blue', 'active', D1), revision(2, 'green', 'candidate', D2)),
      2,
      'aborted',
    );
    expect(statuses(after)).toEqual(['1:blue:active', '2:green:retired']);
  });
});

describe('decideRollback', () => {
  it('rolls back from the active revision to the previous one', () => {
    const d = decideRollback(record(revision(1, 'blue', 'previous', D1), revision(2, 'green', 'active', D2)));
    expect(d).toMatchObject({ kind: 'rollback', from: { revision: 2 }, to: { revision: 1 } });
  });
  it.each<[string, ReleaseRecord, RegExp]>([
    ['nothing is live', record(), /no revision of api is active/],
    ['nothing is kept', record(revision(1, 'blue', 'active', D1)), /no earlier revision is kept/],
    [
      'a newer candidate replaced the previous colour',
      record(
        revision(1, 'blue', 'previous', D1),
        revision(2, 'green', 'active', D2),
        revision(3, 'blue', 'candidate', D3),
      ),
      /blue colour now holds revision 3/,
    ],
  ])('refuses when %s', (_name, rec, reason) => {
    const d = decideRollback(rec);
    expect(d.kind).toBe('refuse');
    if (d.kind === 'refuse') expect(d.reason).toMatch(reason);
  });
});

describe('decideAbort', () => {
  const rec = record(revision(1, 'blue', 'active', D1), revision(2, 'green', 'candidate', D2));
  it('discards the candidate while the live colour serves', () => {
    expect(decideAbort(rec, 'blue')).toMatchObject({ kind: 'abort', candidate: { revision: 2 } });
  });
  it('refuses when traffic already goes to the candidate colour', () => {
    expect(decideAbort(rec, 'green')).toMatchObject({ kind: 'refuse' });
  });
  it('has nothing to do without a candidate', () => {
    expect(decideAbort(record(revision(1, 'blue', 'active', D1)), 'blue').kind).toBe('nothing');
  });
});

describe('workload facts', () => {
  const deployment = (image: string): V1Deployment => ({
    spec: { selector: {}, template: { spec: { containers: [{ name: 'app', image }] } } },
  });
  it('reads digests and matches a revision by digest', () => {
    const d = deployment(`registry:5000/shop/api@${D2}`);
    expect(deploymentDigests(d)).toEqual([D2]);
    expect(runsRevision(d, revision(2, 'green', 'candidate', D2))).toBe(true);
    expect(runsRevision(d, revision(3, 'green', 'candidate', D3))).toBe(false);
  });

  it('describes why pods are not ready', () => {
    const pods: V1Pod[] = [
      {
        metadata: { name: 'a' },
        status: {
          conditions: [{ type: 'Ready', status: 'False' }],
          containerStatuses: [
            {
              name: 'app',
              image: 'x',
              imageID: '',
              ready: false,
              restartCount: 4,
              state: { waiting: { reason: 'CrashLoopBackOff' } },
            },
          ],
        },
      },
      { metadata: { name: 'b' }, status: { conditions: [{ type: 'Ready', status: 'True' }] } },
    ];
    expect(podTrouble(pods)).toBe('1/2 pods ready; app: CrashLoopBackOff');
  });
});

describe('verification pacing', () => {
  const http = (intervalMs: number): GateSpec => ({
    kind: 'http',
    name: 'h',
    url: 'http://x',
    method: 'GET',
    headers: {},
    status: [200],
    intervalMs,
    successes: 1,
    requestTimeoutMs: 1000,
  });
  it.each<[GateSpec[], number | undefined, number]>([
    [[{ kind: 'endpoints', name: 'e' }], undefined, 2000],
    [[http(500)], undefined, 1000],
    [[http(1500)], undefined, 1500],
    [[http(60_000)], undefined, 2000],
    [[http(1500)], 250, 250],
  ])('interval for %j (override %s) is %s ms', (gates, override, expected) => {
    expect(verifyInterval(gates, override)).toBe(expected);
  });
  it('fails at once on a Prometheus value out of bounds, after two failed HTTP checks', () => {
    expect(failuresToFail('prometheus')).toBe(1);
    expect(failuresToFail('http')).toBe(2);
  });
  it('reads digests from references', () => {
    expect(digestOf(`a/b@${D1}`)).toBe(D1);
    expect(digestOf('a/b:1.0')).toBeUndefined();
  });
});

describe('decideEnvironmentPromotion', () => {
  const staging = (...revisions: ReleaseRevision[]) => ({ ...record(...revisions), environment: 'staging' });
  const withChart = (r: ReleaseRevision, version: string) => ({ ...r, chart: { name: 'api', version } });

  it("ships the source's active digests", () => {
    const d = decideEnvironmentPromotion(
      staging(withChart(revision(4, 'green', 'active', D2), '1.2.0')),
      record(),
    );
    expect(d).toMatchObject({
      kind: 'ship',
      source: { revision: 4 },
      images: [`registry:5000/shop/api@${D2}`],
    });
  });
  it('has nothing to do when this environment already runs those digests and that chart version', () => {
    const d = decideEnvironmentPromotion(
      staging(withChart(revision(4, 'green', 'active', D2), '1.2.0')),
      record(withChart(revision(9, 'blue', 'active', D2), '1.2.0')),
    );
    expect(d).toMatchObject({ kind: 'nothing', active: { revision: 9 } });
  });
  it('ships again when only the chart version differs', () => {
    const d = decideEnvironmentPromotion(
      staging(withChart(revision(4, 'green', 'active', D2), '1.3.0')),
      record(withChart(revision(9, 'blue', 'active', D2), '1.2.0')),
    );
    expect(d.kind).toBe('ship');
  });
  it.each<[string, ReleaseRecord, string | undefined, RegExp]>([
    [
      'the source has nothing live',
      staging(revision(1, 'blue', 'candidate', D1)),
      undefined,
      /no revision of api is active in staging/,
    ],
    [
      'the source runs an image without a digest',
      staging({
        ...revision(1, 'blue', 'active', D1),
        images: [{ repository: 'r/api', reference: 'r/api:1.0' }],
      }),
      undefined,
      /r\/api:1.0 without a digest/,
    ],
    [
      'the source moved on since the approval',
      staging(revision(1, 'blue', 'active', D1)),
      D3,
      /runs sha256:1{64}, not the expected/,
    ],
  ])('refuses when %s', (_name, source, expected, reason) => {
    const d = decideEnvironmentPromotion(source, record(), expected);
    expect(d.kind).toBe('refuse');
    if (d.kind === 'refuse') expect(d.reason).toMatch(reason);
  });
});
