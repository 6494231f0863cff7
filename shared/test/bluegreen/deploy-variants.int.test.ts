import type { V1EndpointSlice } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { scaleDeployment } from '../../src/bluegreen/deploy.ts';
import { readyEndpointPods } from '../../src/health/endpoints.ts';
import { endpointSliceSource, watchUntil } from '../../src/kube/watch.ts';
import { readRecord } from '../../src/release/store.ts';
import { createTestNamespace, runDeploy, type TestNamespace, testKube } from './fixtures.ts';

const kube = testKube();
const recordOf = async (namespace: string) =>
  (await readRecord(kube, { namespace, app: 'api', environment: 'staging' })).record;

describe('deploy variants against testenv', () => {
  const namespaces: TestNamespace[] = [];
  const namespace = async (prefix: string) => {
    const ns = await createTestNamespace(prefix);
    namespaces.push(ns);
    return ns.name;
  };
  afterAll(async () => {
    for (const ns of namespaces) await ns.delete();
  });

  it('copies the HPA per colour and starts the candidate at the current replica count of the live colour', async () => {
    const ns = await namespace('deploy-hpa');
    const first = await runDeploy(kube, { namespace: ns, shape: { hpa: true } });
    expect(first.error, first.lines.join('\n')).toBeUndefined();
    // Stand in for the autoscaler having scaled the live colour up.
    await scaleDeployment(kube, ns, 'api-blue', 3);
    const second = await runDeploy(kube, { namespace: ns, shape: { hpa: true, version: '1.1.0' } });
    expect(second.error, second.lines.join('\n')).toBeUndefined();
    const green = await kube.apps.readNamespacedDeployment({ name: 'api-green', namespace: ns });
    expect(green.spec?.replicas).toBe(3);
    expect(green.status?.readyReplicas).toBe(3);
    const hpa = await kube.autoscaling.readNamespacedHorizontalPodAutoscaler({
      name: 'api-green',
      namespace: ns,
    });
    expect(hpa.spec?.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: 'api-green' });
    const blueHpa = await kube.autoscaling.readNamespacedHorizontalPodAutoscaler({
      name: 'api-blue',
      namespace: ns,
    });
    expect(blueHpa.spec?.scaleTargetRef.name).toBe('api-blue');
  });

  it('deploys a worker with no Service: nothing to route, both colours run their own workload', async () => {
    const ns = await namespace('deploy-worker');
    const first = await runDeploy(kube, { namespace: ns, shape: { service: false } });
    expect(first.error, first.lines.join('\n')).toBeUndefined();
    expect(first.result.active).toBe(true);
    const second = await runDeploy(kube, { namespace: ns, shape: { service: false, version: '1.1.0' } });
    expect(second.error, second.lines.join('\n')).toBeUndefined();
    expect(second.result).toMatchObject({ color: 'green', ready: true, active: false });
    expect(second.result.gates[0]?.detail).toContain('no Service selects the app');
    const services = await kube.core.listNamespacedService({ namespace: ns });
    expect(services.items).toEqual([]);
    expect((await recordOf(ns)).revisions.map((r) => r.status)).toEqual(['active', 'candidate']);
  });

  it('removes older config copies of the candidate colour once a new one is live on it', async () => {
    const ns = await namespace('deploy-copies');
    for (const mode of ['one', 'two', 'three']) {
      const run = await runDeploy(kube, { namespace: ns, shape: { config: { MODE: mode } } });
      expect(run.error, run.lines.join('\n')).toBeUndefined();
    }
    // blue got "one" (first deploy, live); green got "two" and then "three": only "three" is kept on green.
    const copies = await kube.core.listNamespacedConfigMap({
      namespace: ns,
      labelSelector: 'greenlight.dev/app=api',
    });
    const byColor = copies.items
      .filter((c) => c.metadata?.labels?.['greenlight.dev/color'])
      .map((c) => `${c.metadata?.labels?.['greenlight.dev/color']}:${c.data?.MODE}`)
      .sort();
    expect(byColor).toEqual(['blue:one', 'green:three']);
  });

  it('copies a referenced Secret per colour, keeps it out of the log, and a re-run leaves it unchanged', async () => {
    const ns = await namespace('deploy-secret');
    const first = await runDeploy(kube, { namespace: ns, shape: { secret: { TOKEN: 's3cr3t-value' } } });
    expect(first.error, first.lines.join('\n')).toBeUndefined();
    const copy = first.result.applied.find((a) => a.ref.kind === 'Secret');
    expect(copy?.ref.name).toMatch(/^api-secret-[0-9a-f]{10}$/);
    const secret = await kube.core.readNamespacedSecret({ name: copy?.ref.name as string, namespace: ns });
    expect(Buffer.from(secret.data?.TOKEN ?? '', 'base64').toString()).toBe('s3cr3t-value');
    expect(secret.metadata?.labels?.['greenlight.dev/color']).toBe('blue');
    expect(first.lines.join('\n')).not.toContain('s3cr3t-value');
    const again = await runDeploy(kube, { namespace: ns, shape: { secret: { TOKEN: 's3cr3t-value' } } });
    expect(again.error, again.lines.join('\n')).toBeUndefined();
    expect(again.lines.join('\n')).toContain('nothing to deploy');
    const candidate = await runDeploy(kube, { namespace: ns, shape: { secret: { TOKEN: 'other' } } });
    expect(candidate.error, candidate.lines.join('\n')).toBeUndefined();
    const rerun = await runDeploy(kube, { namespace: ns, shape: { secret: { TOKEN: 'other' } } });
    expect(rerun.error, rerun.lines.join('\n')).toBeUndefined();
    expect(rerun.result.applied.filter((a) => a.outcome !== 'unchanged')).toEqual([]);
  });

  it('adopts a plain Deployment and Service without a moment with no ready endpoints', async () => {
    const ns = await namespace('deploy-adopt');
    const labels = { app: 'api' };
    await kube.apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: 'api', labels },
        spec: {
          replicas: 2,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: { containers: [{ name: 'api', image: 'example.com/shop/api:0.9' }] },
          },
        },
      },
    });
    await kube.core.createNamespacedService({
      namespace: ns,
      body: {
        metadata: { name: 'api' },
        spec: { selector: labels, ports: [{ port: 80, targetPort: 8080 }] },
      },
    });
    // Watch the Service's endpoints through the whole adoption and keep the fewest ready endpoints seen.
    const counts: number[] = [];
    const mixed: string[][] = [];
    const stop = new AbortController();
    const watching = watchUntil(
      kube,
      [endpointSliceSource(kube, ns, 'api')] as const,
      ([slices]) => {
        const pods = [...readyEndpointPods(slices as readonly V1EndpointSlice[])];
        counts.push(pods.length);
        // Old pods and blue pods together would mean blue got traffic before the switch.
        if (pods.some((p) => p.startsWith('api-blue-')) && pods.some((p) => !p.startsWith('api-blue-')))
          mixed.push(pods);
        return undefined;
      },
      {
        deadline: Date.now() + 120_000,
        signal: stop.signal,
        what: 'endpoints',
        onTimeout: () => new Error('timeout'),
      },
    ).catch(() => undefined);
    await watchUntil(
      kube,
      [endpointSliceSource(kube, ns, 'api')] as const,
      ([slices]) => (readyEndpointPods(slices as readonly V1EndpointSlice[]).size === 2 ? true : undefined),
      {
        deadline: Date.now() + 60_000,
        what: 'the plain app to be ready',
        onTimeout: () => new Error('plain app never ready'),
      },
    );
    const run = await runDeploy(kube, { namespace: ns });
    stop.abort();
    await watching;
    expect(run.error, run.lines.join('\n')).toBeUndefined();
    expect(run.result).toMatchObject({ color: 'blue', active: true });
    const service = await kube.core.readNamespacedService({ name: 'api', namespace: ns });
    expect(service.spec?.selector).toEqual({ 'greenlight.dev/app': 'api', 'greenlight.dev/color': 'blue' });
    const plain = await kube.apps.readNamespacedDeployment({ name: 'api', namespace: ns });
    expect(plain.spec?.replicas).toBe(0);
    const seenAfterReady = counts.slice(counts.indexOf(2));
    expect(seenAfterReady.length).toBeGreaterThan(1);
    expect(Math.min(...seenAfterReady)).toBeGreaterThan(0);
    expect(mixed).toEqual([]);
    expect(counts.at(-1)).toBe(2);
    expect((await recordOf(ns)).revisions[0]).toMatchObject({ color: 'blue', status: 'active' });
  });
});
