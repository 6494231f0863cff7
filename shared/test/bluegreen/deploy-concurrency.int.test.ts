import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { podBehaviour } from '../../../testenv/src/index.ts';
import { readRecord } from '../../src/release/store.ts';
import { createTestNamespace, runDeploy, type TestNamespace, testKube } from './fixtures.ts';

const kube = testKube();

describe('concurrent and cancelled deploys', () => {
  let ns: TestNamespace;
  beforeAll(async () => {
    ns = await createTestNamespace('deploy-lock');
    const first = await runDeploy(kube, { namespace: ns.name });
    expect(first.error, first.lines.join('\n')).toBeUndefined();
  });
  afterAll(async () => {
    await ns?.delete();
  });

  it('two deploys at once: one waits for the lock of the other, never both at the same time', async () => {
    const slow = { annotations: podBehaviour.readyAfter(2), version: '3.0.0' };
    const [one, two] = await Promise.all([
      runDeploy(kube, { namespace: ns.name, shape: slow }),
      new Promise((resolve) => setTimeout(resolve, 300)).then(() =>
        runDeploy(kube, { namespace: ns.name, shape: { version: '3.0.1' } }),
      ),
    ]);
    expect(one.error, one.lines.join('\n')).toBeUndefined();
    expect(two.error, two.lines.join('\n')).toBeUndefined();
    const waited = [one, two].filter((run) =>
      run.lines.some((line) => line.includes('waiting for the lock')),
    );
    expect(waited).toHaveLength(1);
    // The one that waited started its work only after the other had finished.
    const [first, second] = waited[0] === two ? [one, two] : [two, one];
    const finished = Math.max(...first.clock.phases.map((p) => p.startedAt + p.durationMs));
    const secondWork = second.clock.phases.find((p) => p.name === 'read state');
    expect(secondWork?.startedAt).toBeGreaterThanOrEqual(finished - 50);
    const { record } = await readRecord(kube, { namespace: ns.name, app: 'api', environment: 'staging' });
    expect(record.revisions.map((r) => r.status)).toEqual(['active', 'retired', 'candidate']);
  });

  it('a deploy cancelled mid-wait releases the lock and records the cancellation; a re-run completes', async () => {
    const controller = new AbortController();
    const shape = { annotations: podBehaviour.readyAfter(4), version: '4.0.0' };
    setTimeout(() => controller.abort(new Error('cancelled by SIGTERM')), 1_500);
    const cancelled = await runDeploy(kube, { namespace: ns.name, shape, signal: controller.signal });
    expect(String(cancelled.error)).toContain('cancelled by SIGTERM');
    await expect(
      kube.coordination.readNamespacedLease({ name: 'greenlight-api-staging', namespace: ns.name }),
    ).rejects.toMatchObject({ code: 404 });
    const { record } = await readRecord(kube, { namespace: ns.name, app: 'api', environment: 'staging' });
    const last = record.revisions.at(-1);
    expect(last).toMatchObject({ status: 'failed', revision: cancelled.result.revision });
    expect(last?.reason).toContain('cancelled');
    const green = await kube.apps.readNamespacedDeployment({ name: 'api-green', namespace: ns.name });
    expect(green.spec?.replicas).toBe(0);

    const rerun = await runDeploy(kube, { namespace: ns.name, shape });
    expect(rerun.error, rerun.lines.join('\n')).toBeUndefined();
    expect(rerun.result.revision).toBe(cancelled.result.revision);
    expect(rerun.result.ready).toBe(true);
    const after = await readRecord(kube, { namespace: ns.name, app: 'api', environment: 'staging' });
    expect(after.record.revisions.at(-1)).toMatchObject({ status: 'candidate', ready: true });
  });
});
