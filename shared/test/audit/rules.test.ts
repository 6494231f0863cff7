import type {
  KubernetesObject,
  V1CronJob,
  V1Ingress,
  V1NetworkPolicy,
  V1PersistentVolumeClaim,
  V1StatefulSet,
} from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { AuditConfig } from '../../src/audit/config.ts';
import { ALL_RULES } from '../../src/audit/rules/index.ts';
import {
  check,
  cleanContainer,
  cleanSet,
  DIGEST,
  deployment,
  networkPolicy,
  pdb,
  service,
} from './fixtures.ts';

interface Case {
  name: string;
  objects: KubernetesObject[];
  config?: Partial<AuditConfig>;
  minor?: number;
  /** Findings expected: 0 for a quiet case; for a firing case, the count and words the message must hold. */
  count: number;
  says?: string;
}

const jvm = (overrides: Parameters<typeof cleanContainer>[0]) =>
  deployment({ container: { image: 'registry.example.com/shop/billing:2.0.0', ...overrides } });

const cronJob = (container: Parameters<typeof cleanContainer>[0]): V1CronJob => ({
  apiVersion: 'batch/v1',
  kind: 'CronJob',
  metadata: { name: 'nightly', namespace: 'shop' },
  spec: {
    schedule: '0 3 * * *',
    jobTemplate: {
      spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [cleanContainer(container)] } } },
    },
  },
});

const statefulSet = (claims: boolean): V1StatefulSet => ({
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: { name: 'db', namespace: 'shop' },
  spec: {
    serviceName: 'db',
    replicas: 3,
    selector: { matchLabels: { app: 'api' } },
    template: deployment().spec?.template ?? {},
    ...(claims
      ? { volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'] } }] }
      : {}),
  },
});

const claim = (mode: string): V1PersistentVolumeClaim => ({
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name: 'data', namespace: 'shop' },
  spec: { accessModes: [mode], resources: { requests: { storage: '1Gi' } } },
});

const withClaim = (replicas: number) =>
  deployment({
    replicas,
    spec: { volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }] },
  });

const ingress = (host: string): V1Ingress => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name: 'api', namespace: 'shop' },
  spec: {
    rules: [
      {
        host,
        http: {
          paths: [
            { path: '/', pathType: 'Prefix', backend: { service: { name: 'api', port: { number: 80 } } } },
          ],
        },
      },
    ],
  },
});

const cases: Record<string, Case[]> = {
  'GL-RES-001': [
    {
      name: 'no requests',
      objects: cleanSet(deployment({ container: { resources: { limits: { cpu: '1', memory: '1Gi' } } } })),
      count: 1,
      says: 'no cpu or memory request',
    },
    {
      name: 'memory request only',
      objects: cleanSet(deployment({ container: { resources: { requests: { memory: '1Gi' } } } })),
      count: 1,
      says: 'no cpu request',
    },
    {
      name: 'init container without requests',
      objects: cleanSet(
        deployment({
          spec: { initContainers: [{ name: 'migrate', image: `registry.example.com/m:1@${DIGEST}` }] },
        }),
      ),
      count: 1,
      says: 'init container "migrate"',
    },
    { name: 'both requests', objects: cleanSet(), count: 0 },
  ],
  'GL-RES-002': [
    {
      name: 'no limits',
      objects: cleanSet(deployment({ container: { resources: { requests: { cpu: '1', memory: '1Gi' } } } })),
      count: 1,
      says: 'no cpu or memory limit',
    },
    { name: 'both limits', objects: cleanSet(), count: 0 },
  ],
  'GL-RES-003': [
    {
      name: '-Xmx equal to the limit',
      objects: cleanSet(
        jvm({ args: ['-Xmx1g', '-jar', 'app.jar'], resources: { limits: { memory: '1Gi', cpu: '1' } } }),
      ),
      count: 1,
      says: 'limit of 2 GiB or more',
    },
    {
      name: 'JAVA_OPTS heap too close',
      objects: cleanSet(
        jvm({
          env: [{ name: 'JAVA_OPTS', value: '-Xms512m -Xmx2048m' }],
          resources: { limits: { memory: '2560Mi' } },
        }),
      ),
      count: 1,
    },
    {
      name: 'MaxRAMPercentage leaves too little',
      objects: cleanSet(
        jvm({
          env: [{ name: 'JAVA_TOOL_OPTIONS', value: '-XX:MaxRAMPercentage=75' }],
          resources: { limits: { memory: '2Gi' } },
        }),
      ),
      count: 1,
    },
    {
      name: 'heap plus 1 GiB fits',
      objects: cleanSet(
        jvm({ args: ['-Xmx1g'], command: ['java'], resources: { limits: { memory: '2Gi' } } }),
      ),
      count: 0,
    },
    {
      name: 'MaxRAMPercentage on a large limit',
      objects: cleanSet(
        jvm({
          env: [{ name: 'JAVA_TOOL_OPTIONS', value: '-XX:MaxRAMPercentage=50' }],
          resources: { limits: { memory: '4Gi' } },
        }),
      ),
      count: 0,
    },
    { name: 'not a JVM', objects: cleanSet(), count: 0 },
  ],
  'GL-RES-004': [
    {
      name: 'openjdk 8',
      objects: cleanSet(deployment({ container: { image: 'openjdk:8-jre' } })),
      count: 1,
      says: 'Java 8',
    },
    {
      name: 'java 1.7 style',
      objects: cleanSet(deployment({ container: { image: 'docker.io/library/openjdk:1.7.0' } })),
      count: 1,
      says: 'Java 7',
    },
    {
      name: 'temurin 17',
      objects: cleanSet(deployment({ container: { image: 'eclipse-temurin:17-jre' } })),
      count: 0,
    },
    {
      name: 'not a Java image',
      objects: cleanSet(deployment({ container: { image: 'nginx:1.8' } })),
      count: 0,
    },
  ],
  'GL-PRB-001': [
    {
      name: 'Service selects pods without readiness',
      objects: cleanSet(deployment({ container: { readinessProbe: undefined } })),
      count: 1,
      says: 'Service api',
    },
    {
      name: 'no Service selects them',
      objects: [deployment({ container: { readinessProbe: undefined } })],
      count: 0,
    },
    {
      name: 'Service in another namespace',
      objects: [
        deployment({ container: { readinessProbe: undefined } }),
        { ...service(), metadata: { name: 'api', namespace: 'other' } },
      ],
      count: 0,
    },
    {
      name: 'CronJob needs no probe',
      objects: [cronJob({ readinessProbe: undefined, livenessProbe: undefined }), service()],
      count: 0,
    },
    { name: 'readiness present', objects: cleanSet(), count: 0 },
  ],
  'GL-PRB-002': [
    {
      name: 'liveness only',
      objects: cleanSet(deployment({ container: { readinessProbe: undefined } })),
      count: 1,
    },
    { name: 'both probes', objects: cleanSet(), count: 0 },
    { name: 'CronJob with liveness only', objects: [cronJob({ readinessProbe: undefined })], count: 0 },
  ],
  'GL-PRB-003': [
    {
      name: 'same probe, keys in another order',
      objects: cleanSet(
        deployment({
          container: {
            livenessProbe: { periodSeconds: 5, timeoutSeconds: 2, httpGet: { port: 'http', path: '/ready' } },
          },
        }),
      ),
      count: 1,
    },
    { name: 'different probes', objects: cleanSet(), count: 0 },
  ],
  'GL-PRB-004': [
    {
      name: 'Kafka with a short liveness budget',
      objects: cleanSet(
        deployment({
          container: {
            image: 'confluentinc/cp-kafka:7.6.0',
            livenessProbe: {
              tcpSocket: { port: 9092 },
              initialDelaySeconds: 30,
              periodSeconds: 10,
              failureThreshold: 3,
            },
          },
        }),
      ),
      count: 1,
      says: 'after 60s',
    },
    {
      name: 'JVM by JAVA_OPTS',
      objects: cleanSet(deployment({ container: { env: [{ name: 'JAVA_OPTS', value: '-Xmx512m' }] } })),
      count: 1,
    },
    {
      name: 'Elasticsearch with a startup probe',
      objects: cleanSet(
        deployment({
          container: {
            image: 'elasticsearch:8.13.0',
            startupProbe: { httpGet: { path: '/', port: 9200 }, periodSeconds: 10, failureThreshold: 180 },
          },
        }),
      ),
      count: 0,
    },
    {
      name: 'ZooKeeper with a long initial delay',
      objects: cleanSet(
        deployment({
          container: {
            image: 'zookeeper:3.9',
            livenessProbe: { tcpSocket: { port: 2181 }, initialDelaySeconds: 600 },
          },
        }),
      ),
      count: 0,
    },
    { name: 'a fast starter', objects: cleanSet(), count: 0 },
    {
      name: 'budget from the config',
      objects: cleanSet(
        deployment({
          container: {
            image: 'zookeeper:3.9',
            livenessProbe: { tcpSocket: { port: 2181 }, initialDelaySeconds: 100 },
          },
        }),
      ),
      config: {
        settings: {
          slowStartSeconds: 60,
          restartThreshold: 5,
          restartWindowMs: 1,
          notReadyAfterMs: 1,
          candidateGraceMs: 1,
        },
      },
      count: 0,
    },
  ],
  'GL-PRB-005': [
    {
      name: 'timeout equals period',
      objects: cleanSet(
        deployment({
          container: {
            readinessProbe: { httpGet: { path: '/r', port: 80 }, periodSeconds: 5, timeoutSeconds: 5 },
          },
        }),
      ),
      count: 1,
      says: 'times out after 5s but runs every 5s',
    },
    {
      name: 'default period under a long timeout',
      objects: cleanSet(
        deployment({ container: { startupProbe: { tcpSocket: { port: 80 }, timeoutSeconds: 12 } } }),
      ),
      count: 1,
    },
    { name: 'timeouts below periods', objects: cleanSet(), count: 0 },
  ],
  'GL-IMG-001': [
    {
      name: 'latest',
      objects: cleanSet(deployment({ container: { image: 'registry.example.com/shop/api:latest' } })),
      count: 1,
      says: 'latest tag',
    },
    {
      name: 'no tag',
      objects: cleanSet(deployment({ container: { image: 'registry.example.com:5000/shop/api' } })),
      count: 1,
      says: 'no tag',
    },
    {
      name: 'unreadable reference',
      objects: cleanSet(deployment({ container: { image: 'not an image' } })),
      count: 1,
      says: 'cannot be read',
    },
    {
      name: 'registry port is not a tag',
      objects: cleanSet(deployment({ container: { image: 'registry.example.com:5000/shop/api:1.2.3' } })),
      count: 0,
    },
    {
      name: 'latest pinned by digest',
      objects: cleanSet(deployment({ container: { image: `nginx:latest@${DIGEST}` } })),
      count: 0,
    },
  ],
  'GL-IMG-002': [
    {
      name: 'tag only in production',
      objects: cleanSet(deployment({ container: { image: 'registry.example.com/shop/api:1.2.3' } })),
      config: { production: true },
      count: 1,
    },
    {
      name: 'tag only outside production',
      objects: cleanSet(deployment({ container: { image: 'registry.example.com/shop/api:1.2.3' } })),
      count: 0,
    },
    { name: 'digest in production', objects: cleanSet(), config: { production: true }, count: 0 },
  ],
  'GL-IMG-003': [
    {
      name: 'Docker Hub not allowed',
      objects: cleanSet(deployment({ container: { image: `nginx:1.27@${DIGEST}` } })),
      config: { allowedRegistries: ['registry.example.com'] },
      count: 1,
      says: 'docker.io',
    },
    {
      name: 'path prefix not matched',
      objects: cleanSet(),
      config: { allowedRegistries: ['registry.example.com/other'] },
      count: 1,
    },
    {
      name: 'allowed host',
      objects: cleanSet(),
      config: { allowedRegistries: ['registry.example.com'] },
      count: 0,
    },
    {
      name: 'allowed host and path',
      objects: cleanSet(),
      config: { allowedRegistries: ['registry.example.com/shop'] },
      count: 0,
    },
    {
      name: 'no list configured',
      objects: cleanSet(deployment({ container: { image: `nginx:1.27@${DIGEST}` } })),
      count: 0,
    },
  ],
  'GL-IMG-004': [
    {
      name: 'Never',
      objects: cleanSet(deployment({ container: { imagePullPolicy: 'Never' } })),
      count: 1,
      says: 'Never',
    },
    {
      name: 'latest with IfNotPresent',
      objects: cleanSet(deployment({ container: { image: 'api:latest', imagePullPolicy: 'IfNotPresent' } })),
      count: 1,
      says: 'stale',
    },
    {
      name: 'latest with Always',
      objects: cleanSet(deployment({ container: { image: 'api:latest', imagePullPolicy: 'Always' } })),
      count: 0,
    },
    { name: 'digest with IfNotPresent', objects: cleanSet(), count: 0 },
  ],
  'GL-SEC-001': [
    {
      name: 'privileged',
      objects: cleanSet(
        deployment({ container: { securityContext: { privileged: true, readOnlyRootFilesystem: true } } }),
      ),
      count: 1,
    },
    { name: 'not privileged', objects: cleanSet(), count: 0 },
  ],
  'GL-SEC-002': [
    {
      name: 'not set',
      objects: cleanSet(deployment({ container: { securityContext: { readOnlyRootFilesystem: true } } })),
      count: 1,
    },
    {
      name: 'set to true',
      objects: cleanSet(deployment({ container: { securityContext: { allowPrivilegeEscalation: true } } })),
      count: 1,
    },
    { name: 'false', objects: cleanSet(), count: 0 },
  ],
  'GL-SEC-003': [
    {
      name: 'nothing says non-root',
      objects: cleanSet(
        deployment({
          spec: { securityContext: {} },
          container: { securityContext: { allowPrivilegeEscalation: false } },
        }),
      ),
      count: 1,
      says: 'may run as root',
    },
    {
      name: 'runAsUser 0',
      objects: cleanSet(deployment({ container: { securityContext: { runAsUser: 0 } } })),
      count: 1,
      says: 'user 0',
    },
    {
      name: 'pod-level runAsNonRoot',
      objects: cleanSet(deployment({ container: { securityContext: {} } })),
      count: 0,
    },
    {
      name: 'non-zero runAsUser only',
      objects: cleanSet(
        deployment({ spec: { securityContext: { runAsUser: 1000 } }, container: { securityContext: {} } }),
      ),
      count: 0,
    },
  ],
  'GL-SEC-004': [
    {
      name: 'writable',
      objects: cleanSet(deployment({ container: { securityContext: { readOnlyRootFilesystem: false } } })),
      count: 1,
    },
    { name: 'read-only', objects: cleanSet(), count: 0 },
  ],
  'GL-SEC-005': [
    {
      name: 'hostNetwork and hostPID',
      objects: cleanSet(deployment({ spec: { hostNetwork: true, hostPID: true } })),
      count: 2,
    },
    { name: 'none', objects: cleanSet(), count: 0 },
  ],
  'GL-SEC-006': [
    {
      name: 'hostPath',
      objects: cleanSet(
        deployment({ spec: { volumes: [{ name: 'sock', hostPath: { path: '/var/run/docker.sock' } }] } }),
      ),
      count: 1,
      says: '/var/run/docker.sock',
    },
    {
      name: 'emptyDir',
      objects: cleanSet(deployment({ spec: { volumes: [{ name: 'tmp', emptyDir: {} }] } })),
      count: 0,
    },
  ],
  'GL-SEC-007': [
    {
      name: 'SYS_ADMIN',
      objects: cleanSet(
        deployment({ container: { securityContext: { capabilities: { add: ['SYS_ADMIN'] } } } }),
      ),
      count: 1,
      says: 'SYS_ADMIN',
    },
    {
      name: 'NET_BIND_SERVICE only',
      objects: cleanSet(
        deployment({
          container: { securityContext: { capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } } },
        }),
      ),
      count: 0,
    },
    { name: 'none added', objects: cleanSet(), count: 0 },
  ],
  'GL-AVL-001': [
    { name: 'one replica', objects: cleanSet(deployment({ replicas: 1 })), count: 1 },
    {
      name: 'replicas unset means one',
      objects: [{ ...deployment(), spec: { ...deployment().spec, replicas: undefined } } as KubernetesObject],
      count: 1,
    },
    {
      name: 'autoscaler keeps two',
      objects: [
        deployment({ replicas: 1 }),
        {
          apiVersion: 'autoscaling/v2',
          kind: 'HorizontalPodAutoscaler',
          metadata: { name: 'api', namespace: 'shop' },
          spec: {
            minReplicas: 2,
            maxReplicas: 5,
            scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' },
          },
        } as KubernetesObject,
      ],
      count: 0,
    },
    { name: 'scaled to zero (an idle colour)', objects: [deployment({ replicas: 0 })], count: 0 },
    {
      name: 'DaemonSet',
      objects: [
        {
          apiVersion: 'apps/v1',
          kind: 'DaemonSet',
          metadata: { name: 'agent', namespace: 'shop' },
          spec: { selector: { matchLabels: { app: 'api' } }, template: deployment().spec?.template },
        } as KubernetesObject,
      ],
      count: 0,
    },
    { name: 'three replicas', objects: cleanSet(), count: 0 },
  ],
  'GL-AVL-002': [
    { name: 'no PDB', objects: [deployment(), service(), networkPolicy()], count: 1 },
    {
      name: 'PDB selects other pods',
      objects: [
        deployment(),
        {
          ...pdb(),
          spec: { minAvailable: 1, selector: { matchLabels: { app: 'other' } } },
        } as KubernetesObject,
      ],
      count: 1,
    },
    { name: 'single replica needs none', objects: [deployment({ replicas: 1 })], count: 0 },
    { name: 'PDB present', objects: cleanSet(), count: 0 },
  ],
  'GL-AVL-003': [
    {
      name: 'no spread',
      objects: cleanSet(deployment({ spec: { topologySpreadConstraints: undefined } })),
      count: 1,
    },
    {
      name: 'anti-affinity instead',
      objects: cleanSet(
        deployment({
          spec: {
            topologySpreadConstraints: undefined,
            affinity: {
              podAntiAffinity: {
                preferredDuringSchedulingIgnoredDuringExecution: [
                  {
                    weight: 100,
                    podAffinityTerm: {
                      topologyKey: 'kubernetes.io/hostname',
                      labelSelector: { matchLabels: { app: 'api' } },
                    },
                  },
                ],
              },
            },
          },
        }),
      ),
      count: 0,
    },
    { name: 'spread', objects: cleanSet(), count: 0 },
  ],
  'GL-NET-001': [
    {
      name: 'hostPort',
      objects: cleanSet(deployment({ container: { ports: [{ containerPort: 8080, hostPort: 8080 }] } })),
      count: 1,
      says: 'host port 8080',
    },
    { name: 'containerPort only', objects: cleanSet(), count: 0 },
  ],
  'GL-NET-002': [
    { name: 'LoadBalancer', objects: [service({ type: 'LoadBalancer' })], count: 1 },
    {
      name: 'externalIPs',
      objects: [service({ externalIPs: ['203.0.113.7'] })],
      count: 1,
      says: '203.0.113.7',
    },
    { name: 'ClusterIP', objects: [service({ type: 'ClusterIP' })], count: 0 },
  ],
  'GL-NET-003': [
    { name: 'wildcard host', objects: [ingress('*.example.com')], count: 1 },
    { name: 'exact host', objects: [ingress('api.example.com')], count: 0 },
  ],
  'GL-NET-004': [
    { name: 'no policy', objects: [deployment(), service(), pdb()], count: 1 },
    {
      name: 'policy in another namespace',
      objects: [deployment(), { ...networkPolicy(), metadata: { name: 'x', namespace: 'other' } }],
      count: 1,
    },
    {
      name: 'policy selecting other pods',
      objects: [
        deployment(),
        { ...networkPolicy(), spec: { podSelector: { matchLabels: { app: 'db' } } } } as V1NetworkPolicy,
      ],
      count: 1,
    },
    { name: 'namespace default-deny', objects: cleanSet(), count: 0 },
    { name: 'CronJob', objects: [cronJob({})], count: 0 },
  ],
  'GL-DAT-001': [
    { name: 'no claim templates', objects: [statefulSet(false)], count: 1 },
    { name: 'claim templates', objects: [statefulSet(true)], count: 0 },
  ],
  'GL-DAT-002': [
    {
      name: 'RWO claim on three replicas',
      objects: [withClaim(3), claim('ReadWriteOnce')],
      count: 1,
      says: 'ReadWriteOnce claim data',
    },
    { name: 'RWX claim', objects: [withClaim(3), claim('ReadWriteMany')], count: 0 },
    { name: 'RWO claim on one replica', objects: [withClaim(1), claim('ReadWriteOnce')], count: 0 },
    { name: 'claim not among the objects', objects: [withClaim(3)], count: 0 },
  ],
  'GL-API-001': [
    {
      name: 'extensions/v1beta1 Deployment',
      objects: [deployment({ apiVersion: 'extensions/v1beta1' })],
      count: 1,
      says: 'use apps/v1',
    },
    {
      name: 'policy/v1beta1 PDB at 1.25',
      objects: [{ ...pdb(), apiVersion: 'policy/v1beta1' }],
      minor: 25,
      count: 1,
    },
    {
      name: 'policy/v1beta1 PDB at 1.24',
      objects: [{ ...pdb(), apiVersion: 'policy/v1beta1' }],
      minor: 24,
      count: 0,
    },
    { name: 'current APIs', objects: cleanSet(), count: 0 },
  ],
  'GL-API-002': [
    {
      name: 'policy/v1beta1 PDB at 1.22',
      objects: [{ ...pdb(), apiVersion: 'policy/v1beta1' }],
      minor: 22,
      count: 1,
      says: 'removed in 1.25',
    },
    {
      name: 'v1 Endpoints at 1.33',
      objects: [{ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'ext' } }],
      minor: 33,
      count: 1,
    },
    {
      name: 'already removed is GL-API-001',
      objects: [{ ...pdb(), apiVersion: 'policy/v1beta1' }],
      minor: 30,
      count: 0,
    },
    {
      name: 'before the deprecation',
      objects: [{ ...pdb(), apiVersion: 'policy/v1beta1' }],
      minor: 20,
      count: 0,
    },
  ],
};

describe('static rules', () => {
  for (const [ruleId, ruleCases] of Object.entries(cases)) {
    describe(ruleId, () => {
      it.each(ruleCases)('$name', ({ objects, config, minor, count, says }) => {
        const findings = check(ruleId, objects, { config, minor });
        expect(findings.map((finding) => finding.message)).toHaveLength(count);
        for (const finding of findings) expect(finding.ruleId).toBe(ruleId);
        if (says) expect(findings[0]?.message).toContain(says);
      });
      it('has a case that fires and one that stays quiet', () => {
        expect(ruleCases.some((c) => c.count > 0)).toBe(true);
        expect(ruleCases.some((c) => c.count === 0)).toBe(true);
      });
    });
  }

  it('covers every static rule on objects', () => {
    // Versioning rules read charts, not objects: versioning.test.ts covers them.
    const staticRules = ALL_RULES.filter((rule) => rule.mode !== 'live' && rule.family !== 'versioning').map(
      (rule) => rule.id,
    );
    expect(Object.keys(cases).sort()).toEqual(staticRules.sort());
  });

  it('finds nothing at all in the clean set', () => {
    expect(check(undefined, cleanSet())).toEqual([]);
  });

  it('keeps rule IDs unique and well formed', () => {
    const ids = ALL_RULES.map((rule) => rule.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^GL-[A-Z]+-\d{3}$/);
  });
});
