import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promoteRelease } from '../../src/bluegreen/promote.ts';
import { readRecord } from '../../src/release/store.ts';
import { PhaseClock } from '../../src/runtime/summary.ts';
import { createTestNamespace, runDeploy, type TestNamespace, testHost, testKube } from './fixtures.ts';

const kube = testKube();

describe('promote: auto hands the proven candidate to the promote flow under the same lock', () => {
  let ns: TestNamespace;
  beforeAll(async () => {
    ns = await createTestNamespace('deploy-auto');
    const first = await runDeploy(kube, { namespace: ns.name });
    expect(first.error, first.lines.join('\n')).toBeUndefined();
  });
  afterAll(async () => {
    await ns?.delete();
  });

  it('flips the active Service to green and records it active', async () => {
    const { host, lines } = testHost();
    const run = await runDeploy(kube, {
      namespace: ns.name,
      shape: { version: '2.0.0' },
      promote: async (result, lock) => {
        const outcome = await promoteRelease({
          kube,
          app: 'api',
          namespace: ns.name,
          environment: 'staging',
          host,
          clock: new PhaseClock(),
          signal: new AbortController().signal,
          env: {},
          lock,
          verifyForMs: 2_000,
          scaleDownDelayMs: 500,
          keepPrevious: false,
          route: 'service',
          timeoutMs: 60_000,
          gates: [{ kind: 'endpoints', name: 'endpoints' }],
        });
        if (outcome.failure) throw outcome.failure;
        expect(result.ready).toBe(true);
      },
    });
    expect(run.error, [...run.lines, ...lines].join('\n')).toBeUndefined();
    expect(run.result.active).toBe(true);
    const active = await kube.core.readNamespacedService({ name: 'api', namespace: ns.name });
    expect(active.spec?.selector?.['greenlight.dev/color']).toBe('green');
    const { record } = await readRecord(kube, { namespace: ns.name, app: 'api', environment: 'staging' });
    expect(record.revisions.map((r) => [r.color, r.status])).toEqual([
      ['blue', 'previous'],
      ['green', 'active'],
    ]);
    await expect(
      kube.coordination.readNamespacedLease({ name: 'greenlight-api-staging', namespace: ns.name }),
    ).rejects.toMatchObject({ code: 404 });
  });

  it('a failure after traffic moved never takes down the colour that now serves', async () => {
    const run = await runDeploy(kube, {
      namespace: ns.name,
      shape: { version: '3.0.0' },
      promote: async () => {
        // Stand in for a promote that flipped the active Service and then failed (say, scaling the old colour down).
        await kube.core.patchNamespacedService(
          {
            name: 'api',
            namespace: ns.name,
            body: { spec: { selector: { 'greenlight.dev/app': 'api', 'greenlight.dev/color': 'blue' } } },
          },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
        throw new Error('scale-down of the previous colour failed');
      },
    });
    expect(String(run.error)).toContain('scale-down of the previous colour failed');
    expect(run.result.color).toBe('blue');
    const blue = await kube.apps.readNamespacedDeployment({ name: 'api-blue', namespace: ns.name });
    expect(blue.spec?.replicas).toBe(2);
    expect(run.lines.join('\n')).toContain(
      'the active Service selects blue, so Deployment api-blue stays up',
    );
  });
});
