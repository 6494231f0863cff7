import type { KubernetesObject, V1ConfigMap, V1Deployment, V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { type PlanInput, planDeploy, type SourcedObject } from '../../src/bluegreen/plan.ts';
import { GreenlightError } from '../../src/runtime/errors.ts';

const DIGEST = `sha256:${'a'.repeat(64)}`;

function deployment(overrides: Partial<V1Deployment['spec']> = {}): V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'api', labels: { app: 'api', 'app.kubernetes.io/version': '1.2.0' } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'api' } },
      template: {
        metadata: { labels: { app: 'api' } },
        spec: {
          containers: [
            {
              name: 'api',
              image: 'localhost:5000/shop/api:1.1.0',
              envFrom: [{ configMapRef: { name: 'api-config' } }],
              env: [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'api-secret', key: 'token' } } }],
            },
            { name: 'proxy', image: 'envoyproxy/envoy:v1.30' },
          ],
          volumes: [{ name: 'cfg', configMap: { name: 'api-config' } }],
        },
      },
      ...overrides,
    },
  };
}

const service: V1Service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'api' },
  spec: {
    type: 'LoadBalancer',
    selector: { app: 'api' },
    ports: [{ port: 80, targetPort: 8080, nodePort: 30080 }],
  },
};
const configMap: V1ConfigMap = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'api-config' },
  data: { MODE: 'fast' },
};
const secret = {
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'api-secret' },
  stringData: { token: 'hunter2' },
};
const unrelated = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'api' } };
const hpa = {
  apiVersion: 'autoscaling/v2',
  kind: 'HorizontalPodAutoscaler',
  metadata: { name: 'api' },
  spec: {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' },
    minReplicas: 2,
    maxReplicas: 10,
  },
};

function input(objects: KubernetesObject[], overrides: Partial<PlanInput> = {}): PlanInput {
  return {
    app: 'api',
    namespace: 'shop',
    environment: 'staging',
    candidate: 'blue',
    live: undefined,
    objects: objects.map((object): SourcedObject => ({ object, source: `templates/${object.kind}.yaml` })),
    images: [`localhost:5000/shop/api@${DIGEST}`],
    snapshot: { existingServices: [] },
    ...overrides,
  };
}

const base = () => [deployment(), service, configMap, secret, unrelated] as KubernetesObject[];

describe('planDeploy', () => {
  it('renames the workload to <app>-<colour> with colour labels and a colour-only selector', () => {
    const plan = planDeploy(input(base()));
    expect(plan.deployment.metadata?.name).toBe('api-blue');
    expect(plan.deployment.metadata?.namespace).toBe('shop');
    expect(plan.deployment.spec?.selector.matchLabels).toEqual({
      'greenlight.dev/app': 'api',
      'greenlight.dev/color': 'blue',
    });
    expect(plan.deployment.spec?.template.metadata?.labels).toEqual({
      app: 'api',
      'greenlight.dev/app': 'api',
      'greenlight.dev/color': 'blue',
    });
    expect(plan.appVersion).toBe('1.2.0');
    expect(plan.replicas).toBe(2);
  });

  it('pins images by exact repository, registry port included, and leaves other containers alone', () => {
    const plan = planDeploy(input(base()));
    const containers = plan.deployment.spec?.template.spec?.containers ?? [];
    expect(containers.map((c) => c.image)).toEqual([
      `localhost:5000/shop/api@${DIGEST}`,
      'envoyproxy/envoy:v1.30',
    ]);
    expect(plan.images[0]).toEqual({
      repository: 'localhost:5000/shop/api',
      digest: DIGEST,
      reference: `localhost:5000/shop/api@${DIGEST}`,
    });
  });

  it.each([
    ['another registry', `registry.example.com/shop/api@${DIGEST}`],
    ['another port', `localhost:5001/shop/api@${DIGEST}`],
    ['a longer path', `localhost:5000/shop/api/v2@${DIGEST}`],
  ])('fails when an images entry matches no container (%s)', (_, image) => {
    expect(() => planDeploy(input(base(), { images: [image] }))).toThrow(/matches no container/);
    try {
      planDeploy(input(base(), { images: [image] }));
    } catch (error) {
      expect((error as GreenlightError).file).toBe('templates/Deployment.yaml');
    }
  });

  it('copies referenced ConfigMaps and Secrets per colour with content-hashed names and rewrites references', () => {
    const plan = planDeploy(input(base()));
    const names = plan.configCopies.map((c) => `${c.kind}/${c.metadata?.name}`);
    expect(names).toHaveLength(2);
    expect(names[0]).toMatch(/^ConfigMap\/api-config-[0-9a-f]{10}$/);
    expect(names[1]).toMatch(/^Secret\/api-secret-[0-9a-f]{10}$/);
    const spec = plan.deployment.spec?.template.spec;
    const copyName = plan.configCopies[0]?.metadata?.name;
    expect(spec?.volumes?.[0]?.configMap?.name).toBe(copyName);
    expect(spec?.containers[0]?.envFrom?.[0]?.configMapRef?.name).toBe(copyName);
    expect(spec?.containers[0]?.env?.[0]?.valueFrom?.secretKeyRef?.name).toBe(
      plan.configCopies[1]?.metadata?.name,
    );
    expect(plan.configCopies[0]?.metadata?.labels?.['greenlight.dev/color']).toBe('blue');
    expect(plan.shared.map((s) => s.object.kind)).toEqual(['ServiceAccount']);
  });

  it('changes the copy name when the config content changes, and only then', () => {
    const one = planDeploy(input(base()));
    const same = planDeploy(input(base()));
    const changed = planDeploy(
      input([
        deployment(),
        service,
        { ...configMap, data: { MODE: 'slow' } },
        secret,
        unrelated,
      ] as KubernetesObject[]),
    );
    expect(same.configCopies[0]?.metadata?.name).toBe(one.configCopies[0]?.metadata?.name);
    expect(changed.configCopies[0]?.metadata?.name).not.toBe(one.configCopies[0]?.metadata?.name);
    expect(same.fingerprint).toBe(one.fingerprint);
    expect(changed.fingerprint).not.toBe(one.fingerprint);
  });

  it('on a first deploy plans the active Service on the candidate, and ClusterIP previews without node ports', () => {
    const plan = planDeploy(input(base()));
    expect(plan.previewServices.map((s) => s.metadata?.name)).toEqual(['api-preview', 'api-blue']);
    for (const preview of plan.previewServices) {
      expect(preview.spec?.type).toBe('ClusterIP');
      expect(preview.spec?.ports?.[0]?.nodePort).toBeUndefined();
      expect(preview.spec?.selector).toEqual({ 'greenlight.dev/app': 'api', 'greenlight.dev/color': 'blue' });
    }
    expect(plan.activeServices).toHaveLength(1);
    expect(plan.activeServices[0]?.metadata?.name).toBe('api');
    expect(plan.activeServices[0]?.spec?.type).toBe('LoadBalancer');
    expect(plan.activeServices[0]?.spec?.selector).toEqual({
      'greenlight.dev/app': 'api',
      'greenlight.dev/color': 'blue',
    });
  });

  it('on a second deploy leaves the active Service to the promotion', () => {
    const plan = planDeploy(
      input(base(), {
        candidate: 'green',
        live: 'blue',
        snapshot: { existingServices: ['api', 'api-preview'], liveReplicas: 2 },
      }),
    );
    expect(plan.deployment.metadata?.name).toBe('api-green');
    expect(plan.activeServices).toEqual([]);
    expect(plan.previewServices.map((s) => s.metadata?.name)).toEqual(['api-preview', 'api-green']);
    expect(plan.previewServices[0]?.spec?.selector?.['greenlight.dev/color']).toBe('green');
  });

  it('names the chart Service <app> even when the chart calls it otherwise', () => {
    const renamed = { ...service, metadata: { name: 'release-api' } };
    const plan = planDeploy(input([deployment(), renamed] as KubernetesObject[]));
    expect(plan.activeServices[0]?.metadata?.name).toBe('api');
    expect(plan.notes.join('\n')).toContain('release-api becomes the active Service api');
  });

  it('gives every Service that selects the workload a preview, and leaves other Services shared', () => {
    const admin = {
      ...service,
      metadata: { name: 'api-admin' },
      spec: { selector: { app: 'api' }, ports: [{ port: 9000 }] },
    };
    const other = {
      ...service,
      metadata: { name: 'db' },
      spec: { selector: { app: 'db' }, ports: [{ port: 5432 }] },
    };
    const plan = planDeploy(
      input([deployment(), service, admin, other] as KubernetesObject[], { images: [] }),
    );
    expect(plan.previewServices.map((s) => s.metadata?.name)).toEqual([
      'api-preview',
      'api-blue',
      'api-admin-preview',
    ]);
    expect(plan.activeServices.map((s) => s.metadata?.name)).toEqual(['api', 'api-admin']);
    expect(plan.shared.map((s) => s.object.metadata?.name)).toEqual(['db']);
  });

  it('plans a worker with no Service: no previews, no active Service', () => {
    const plan = planDeploy(input([deployment(), configMap, secret] as KubernetesObject[]));
    expect(plan.previewServices).toEqual([]);
    expect(plan.activeServices).toEqual([]);
  });

  it('copies an HPA per colour and starts the candidate at the live replica count', () => {
    const plan = planDeploy(
      input([...base(), hpa] as KubernetesObject[], {
        candidate: 'green',
        live: 'blue',
        snapshot: { existingServices: ['api'], liveReplicas: 7 },
      }),
    );
    expect(plan.replicas).toBe(7);
    expect(plan.deployment.spec?.replicas).toBe(7);
    expect(plan.autoscalers).toHaveLength(1);
    expect(plan.autoscalers[0]?.metadata?.name).toBe('api-green');
    expect(plan.autoscalers[0]?.spec?.scaleTargetRef).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'api-green',
    });
  });

  it('adopts a plain Deployment: the active Service is planned onto the candidate at its replica count', () => {
    const plan = planDeploy(
      input(base(), {
        snapshot: {
          existingServices: ['api'],
          adopt: { deployment: 'api', replicas: 4, selector: { app: 'api' } },
        },
      }),
    );
    expect(plan.replicas).toBe(4);
    // The old Service selects app=api: the candidate's pods leave that label out until the switch.
    expect(plan.deployment.spec?.template.metadata?.labels).toEqual({
      'greenlight.dev/app': 'api',
      'greenlight.dev/color': 'blue',
    });
    expect(plan.activeServices.map((s) => s.metadata?.name)).toEqual(['api']);
  });

  it.each([
    ['no Deployment', [service], /no Deployment/],
    ['two Deployments', [deployment(), { ...deployment(), metadata: { name: 'worker' } }], /2 Deployments/],
  ])('refuses %s', (_, objects, message) => {
    expect(() => planDeploy(input(objects as KubernetesObject[], { images: [] }))).toThrow(GreenlightError);
    expect(() => planDeploy(input(objects as KubernetesObject[], { images: [] }))).toThrow(message);
  });

  it('does not change its input objects', () => {
    const objects = base();
    const before = JSON.stringify(objects);
    planDeploy(input(objects));
    expect(JSON.stringify(objects)).toBe(before);
  });
});
