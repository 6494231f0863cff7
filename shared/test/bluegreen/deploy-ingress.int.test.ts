// An app whose traffic enters through an Ingress on the colour Services (promote with route: ingress): the active
// Service is not what routes, so a deploy must read the live colour from the Ingresses, or it would deploy over
// the colour that serves.
import { NetworkingV1Api, type V1Ingress } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { type PromoteOptions, promoteRelease } from '../../src/bluegreen/promote.ts';
import { rollbackRelease } from '../../src/bluegreen/rollback.ts';
import { defaultGates } from '../../src/health/spec.ts';
import { readRecord } from '../../src/release/store.ts';
import { PhaseClock } from '../../src/runtime/summary.ts';
import { createTestNamespace, image, runDeploy, type TestNamespace, testHost, testKube } from './fixtures.ts';

const kube = testKube();
const networking = kube.config.makeApiClient(NetworkingV1Api);
const namespaces: TestNamespace[] = [];
afterAll(async () => {
  for (const ns of namespaces) await ns.delete();
});

function ingress(namespace: string, backends: string[]): V1Ingress {
  return {
    metadata: { name: 'shop', namespace },
    spec: {
      rules: backends.map((name, index) => ({
        host: `shop-${index}.example.com`,
        http: {
          paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name, port: { number: 80 } } } }],
        },
      })),
    },
  };
}

function promoteOptions(namespace: string, route: 'service' | 'ingress'): PromoteOptions {
  return {
    kube,
    app: 'api',
    namespace,
    environment: 'staging',
    host: testHost().host,
    clock: new PhaseClock(),
    signal: new AbortController().signal,
    env: {},
    verifyForMs: 0,
    scaleDownDelayMs: 0,
    keepPrevious: true,
    route,
    timeoutMs: 60_000,
    gates: defaultGates(),
  };
}

async function imageOf(namespace: string, color: string): Promise<string | undefined> {
  const deployment = await kube.apps.readNamespacedDeployment({ name: `api-${color}`, namespace });
  return deployment.spec?.template?.spec?.containers?.[0]?.image;
}

describe('deploy with traffic routed by an Ingress', () => {
  it('deploys on the colour the Ingress does not route to, leaving the serving colour untouched', async () => {
    const ns = await createTestNamespace('deploy-ingress');
    namespaces.push(ns);
    const namespace = ns.name;
    const shape = { service: true };
    expect((await runDeploy(kube, { namespace, shape, images: [image('a')] })).error).toBeUndefined();
    const second = await runDeploy(kube, { namespace, shape, images: [image('b')] });
    expect(second.error).toBeUndefined();
    expect(second.result.color).toBe('green');
    await networking.createNamespacedIngress({ namespace, body: ingress(namespace, ['api-blue']) });
    await promoteRelease(promoteOptions(namespace, 'ingress'));
    // The Ingress now routes to green; the active Service still selects blue, as route: ingress leaves it.
    const service = await kube.core.readNamespacedService({ name: 'api', namespace });
    expect(service.spec?.selector?.['greenlight.dev/color']).toBe('blue');
    const servingImage = await imageOf(namespace, 'green');

    const third = await runDeploy(kube, { namespace, shape, images: [image('c')] });
    expect(third.error, third.lines.join('\n')).toBeUndefined();
    expect(third.result.color).toBe('blue');
    expect(third.lines.join('\n')).toMatch(/live colour: green; deploying on blue/);
    expect(await imageOf(namespace, 'green')).toBe(servingImage);
    expect(await imageOf(namespace, 'blue')).toBe(image('c'));

    // With this routing, a switch by the active Service would not move the Ingress's traffic: refused.
    const refused =
      /Ingress shop routes to api-green, a colour Service: switching the active Service would not move that traffic/;
    await expect(promoteRelease(promoteOptions(namespace, 'service'))).rejects.toThrow(refused);
    await expect(rollbackRelease(promoteOptions(namespace, 'service'))).rejects.toThrow(refused);
    const after = await networking.readNamespacedIngress({ name: 'shop', namespace });
    expect(after.spec?.rules?.[0]?.http?.paths[0]?.backend.service?.name).toBe('api-green');
    const record = (await readRecord(kube, { namespace, app: 'api', environment: 'staging' })).record;
    expect(record.switching).toBeUndefined();
    expect(record.revisions.find((r) => r.status === 'candidate')?.color).toBe('blue');
  });

  it('refuses, before any write, when Ingresses route to both colours', async () => {
    const ns = await createTestNamespace('deploy-ingress-both');
    namespaces.push(ns);
    const namespace = ns.name;
    const shape = { service: true };
    expect((await runDeploy(kube, { namespace, shape, images: [image('a')] })).error).toBeUndefined();
    await networking.createNamespacedIngress({
      namespace,
      body: ingress(namespace, ['api-blue', 'api-green']),
    });
    const before = await readRecord(kube, { namespace, app: 'api', environment: 'staging' });
    const { error } = await runDeploy(kube, { namespace, shape, images: [image('b')] });
    expect(String(error)).toMatch(/Ingresses route to both api-blue and api-green, so no colour is idle/);
    const after = await readRecord(kube, { namespace, app: 'api', environment: 'staging' });
    expect(after.resourceVersion).toBe(before.resourceVersion);
  });
});
