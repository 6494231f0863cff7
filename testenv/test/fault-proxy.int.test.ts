import { AuthenticationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestNamespace, faultProxy, kubeConfig, type TestNamespace, watchUntil } from '../src/index.ts';
import { apiStatus } from '../src/kube.ts';

describe('fault proxy in front of the API server', () => {
  const kc = kubeConfig({ viaProxy: true });
  const core = kc.makeApiClient(CoreV1Api);
  let ns: TestNamespace;
  let path: string;
  beforeAll(async () => {
    ns = await createTestNamespace('faults');
    path = `^/api/v1/namespaces/${ns.name}/configmaps`;
  });
  afterEach(async () => {
    await faultProxy.clear();
  });
  afterAll(async () => {
    await ns?.delete();
  });

  const list = () => core.listNamespacedConfigMap({ namespace: ns.name });
  const failure = async (call: () => Promise<unknown>) => {
    try {
      await call();
    } catch (error) {
      return error as Error & { code?: unknown };
    }
    throw new Error('expected the call to fail');
  };

  it('passes requests through with the caller identity', async () => {
    const review = await kc.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({ body: {} });
    expect(review.status?.userInfo?.username).toBe('greenlight-testenv-admin');
    expect(review.status?.userInfo?.groups).toContain('system:masters');
    expect((await list()).items.some((cm) => cm.metadata?.name === 'kube-root-ca.crt')).toBe(true);
  });

  it('streams watches', async () => {
    const seen = watchUntil(
      kc,
      { path: `/api/v1/namespaces/${ns.name}/configmaps`, fieldSelector: 'metadata.name=watched' },
      (items) => items.get(`${ns.name}/watched`)?.data?.step,
      { timeoutMs: 15_000, what: 'ConfigMap watched through the proxy' },
    );
    await core.createNamespacedConfigMap({
      namespace: ns.name,
      body: { metadata: { name: 'watched' }, data: { step: 'one' } },
    });
    expect(await seen).toBe('one');
  });

  it('adds latency', async () => {
    await faultProxy.add({ kind: 'latency', latencyMs: 800, count: 1, path });
    const started = Date.now();
    await list();
    expect(Date.now() - started).toBeGreaterThanOrEqual(790);
    const again = Date.now();
    await list();
    expect(Date.now() - again).toBeLessThan(790);
  });

  for (const code of [429, 500, 503]) {
    it(`answers ${code} for N requests`, async () => {
      await faultProxy.add({ kind: 'status', status: code, count: 2, path });
      expect(apiStatus(await failure(list))).toBe(code);
      expect(apiStatus(await failure(list))).toBe(code);
      await list();
    });
  }

  it('answers only requests matching the method', async () => {
    await faultProxy.add({ kind: 'status', status: 500, method: 'POST', path });
    await list();
    const error = await failure(() =>
      core.createNamespacedConfigMap({ namespace: ns.name, body: { metadata: { name: 'x' } } }),
    );
    expect(apiStatus(error)).toBe(500);
  });

  it('keeps a fault for a time window', async () => {
    await faultProxy.add({ kind: 'status', status: 503, durationMs: 1500, path });
    expect(apiStatus(await failure(list))).toBe(503);
    await new Promise((resolve) => setTimeout(resolve, 1600));
    await list();
  });

  it('resets the connection', async () => {
    await faultProxy.add({ kind: 'reset', count: 1, path });
    const error = await failure(list);
    expect(apiStatus(error)).toBeUndefined();
    expect(
      `${error.message} ${String((error as { cause?: unknown }).cause ?? '')} ${String(error.code)}`,
    ).toMatch(/ECONNRESET|socket hang up|other side closed|terminated/i);
    await list();
  });

  it('hangs until the connection is dropped', async () => {
    await faultProxy.add({ kind: 'hang', hangMs: 2000, count: 1, path });
    const started = Date.now();
    await failure(list);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
  });

  it('counts requests', async () => {
    await faultProxy.resetStats();
    await list();
    await list();
    const stats = await faultProxy.stats();
    expect(stats.total).toBeGreaterThanOrEqual(2);
    expect(stats.byMethod.GET).toBeGreaterThanOrEqual(2);
    expect(
      stats.recent.filter((r) => r.path.startsWith(`/api/v1/namespaces/${ns.name}/configmaps`)),
    ).toHaveLength(2);
  });
});
