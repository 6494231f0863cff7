import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { podBehaviour } from '../../../testenv/src/index.ts';
import { readRecord } from '../../src/release/store.ts';
import { GreenlightError } from '../../src/runtime/errors.ts';
import { createTestNamespace, image, runDeploy, type TestNamespace, testKube } from './fixtures.ts';

const kube = testKube();
const key = (namespace: string) => ({ namespace, app: 'api', environment: 'staging' });

describe('deploy-bluegreen against testenv', () => {
  let ns: TestNamespace;
  beforeAll(async () => {
    ns = await createTestNamespace('deploy-flow');
  });
  afterAll(async () => {
    await ns?.delete();
  });

  it('first deploy: blue comes up, passes the endpoints gate and becomes active', async () => {
    const { result, error, lines } = await runDeploy(kube, { namespace: ns.name });
    expect(error, lines.join('\n')).toBeUndefined();
    expect(result.color).toBe('blue');
    expect(result.previousColor).toBeUndefined();
    expect(result.active).toBe(true);
    expect(result.gates[0]?.outcome).toBe('passed');
    const active = await kube.core.readNamespacedService({ name: 'api', namespace: ns.name });
    expect(active.spec?.selector).toEqual({ 'greenlight.dev/app': 'api', 'greenlight.dev/color': 'blue' });
    const blue = await kube.apps.readNamespacedDeployment({ name: 'api-blue', namespace: ns.name });
    expect(blue.status?.readyReplicas).toBe(2);
    expect(blue.spec?.template.spec?.containers[0]?.image).toBe(image());
    const { record } = await readRecord(kube, key(ns.name));
    expect(record.revisions).toHaveLength(1);
    expect(record.revisions[0]).toMatchObject({
      revision: 1,
      color: 'blue',
      status: 'active',
      ready: true,
      gitSha: 'abc123',
    });
    // The lock is released.
    await expect(
      kube.coordination.readNamespacedLease({ name: 'greenlight-api-staging', namespace: ns.name }),
    ).rejects.toMatchObject({ code: 404 });
  });

  it('re-running the first deploy finds the release live and changes nothing', async () => {
    const before = await kube.apps.readNamespacedDeployment({ name: 'api-blue', namespace: ns.name });
    const { result, error, lines } = await runDeploy(kube, { namespace: ns.name });
    expect(error, lines.join('\n')).toBeUndefined();
    expect(result).toMatchObject({ color: 'blue', revision: 1, active: true, applied: [] });
    expect(lines.join('\n')).toContain('nothing to deploy: revision 1 on blue already runs this release');
    await expect(
      kube.apps.readNamespacedDeployment({ name: 'api-green', namespace: ns.name }),
    ).rejects.toMatchObject({ code: 404 });
    const after = await kube.apps.readNamespacedDeployment({ name: 'api-blue', namespace: ns.name });
    expect(after.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
    const { record } = await readRecord(kube, key(ns.name));
    expect(record.revisions).toHaveLength(1);
  });

  it('second deploy: green comes up beside blue while the active Service stays on blue', async () => {
    const blueBefore = await kube.apps.readNamespacedDeployment({ name: 'api-blue', namespace: ns.name });
    const { result, error, lines } = await runDeploy(kube, {
      namespace: ns.name,
      images: [image('b')],
      shape: { config: { MODE: 'two' }, version: '1.1.0' },
    });
    expect(error, lines.join('\n')).toBeUndefined();
    expect(result).toMatchObject({
      color: 'green',
      previousColor: 'blue',
      ready: true,
      active: false,
      revision: 2,
    });
    const active = await kube.core.readNamespacedService({ name: 'api', namespace: ns.name });
    expect(active.spec?.selector?.['greenlight.dev/color']).toBe('blue');
    const preview = await kube.core.readNamespacedService({ name: 'api-preview', namespace: ns.name });
    expect(preview.spec?.selector?.['greenlight.dev/color']).toBe('green');
    const blueAfter = await kube.apps.readNamespacedDeployment({ name: 'api-blue', namespace: ns.name });
    expect(blueAfter.metadata?.resourceVersion).toBe(blueBefore.metadata?.resourceVersion);
    // The config change reaches only green: each colour has its own content-hashed copy.
    const green = await kube.apps.readNamespacedDeployment({ name: 'api-green', namespace: ns.name });
    const greenConfig = green.spec?.template.spec?.containers[0]?.envFrom?.[0]?.configMapRef?.name;
    const blueConfig = blueAfter.spec?.template.spec?.containers[0]?.envFrom?.[0]?.configMapRef?.name;
    expect(greenConfig).not.toBe(blueConfig);
    const copy = await kube.core.readNamespacedConfigMap({ name: greenConfig as string, namespace: ns.name });
    expect(copy.data).toEqual({ MODE: 'two' });
    const original = await kube.core.readNamespacedConfigMap({
      name: blueConfig as string,
      namespace: ns.name,
    });
    expect(original.data).toEqual({ MODE: 'one' });
    const { record } = await readRecord(kube, key(ns.name));
    expect(record.revisions.map((r) => [r.revision, r.color, r.status])).toEqual([
      [1, 'blue', 'active'],
      [2, 'green', 'candidate'],
    ]);
  });

  it('a re-run with the same inputs changes nothing and keeps the revision', async () => {
    const { result, error, lines } = await runDeploy(kube, {
      namespace: ns.name,
      images: [image('b')],
      shape: { config: { MODE: 'two' }, version: '1.1.0' },
    });
    expect(error, lines.join('\n')).toBeUndefined();
    expect(result.revision).toBe(2);
    expect(result.applied.length).toBeGreaterThan(0);
    expect(
      result.applied.filter((a) => a.outcome !== 'unchanged').map((a) => `${a.ref.kind}/${a.ref.name}`),
    ).toEqual([]);
    const { record } = await readRecord(kube, key(ns.name));
    expect(record.revisions).toHaveLength(2);
  });
});

describe('pod failure modes fail fast with the reason, and leave the live colour alone', () => {
  let ns: TestNamespace;
  beforeAll(async () => {
    ns = await createTestNamespace('deploy-failures');
    const first = await runDeploy(kube, { namespace: ns.name });
    expect(first.error, first.lines.join('\n')).toBeUndefined();
  });
  afterAll(async () => {
    await ns?.delete();
  });

  it.each([
    ['a crash loop', podBehaviour.crashLoop, /CrashLoopBackOff/],
    ['an image pull failure', podBehaviour.imagePullFailure, /ErrImagePull|ImagePullBackOff/],
  ])('%s', async (_, annotations, reason) => {
    const started = Date.now();
    const { result, error } = await runDeploy(kube, {
      namespace: ns.name,
      timeoutMs: 120_000,
      shape: { annotations },
    });
    const elapsed = Date.now() - started;
    expect(error).toBeInstanceOf(GreenlightError);
    const failure = error as GreenlightError;
    expect(failure.what).toBe('wait for rollout');
    expect(failure.object?.name).toBe('api-green');
    expect(failure.reason).toMatch(reason);
    expect(failure.reason).toContain('last events');
    expect(failure.hint).toBeTruthy();
    // Fail fast: well before the two-minute timeout.
    expect(elapsed).toBeLessThan(100_000);
    expect(result.color).toBe('green');
    const green = await kube.apps.readNamespacedDeployment({ name: 'api-green', namespace: ns.name });
    expect(green.spec?.replicas).toBe(0);
    const active = await kube.core.readNamespacedService({ name: 'api', namespace: ns.name });
    expect(active.spec?.selector?.['greenlight.dev/color']).toBe('blue');
    const { record } = await readRecord(kube, key(ns.name));
    const latest = record.revisions[record.revisions.length - 1];
    expect(latest).toMatchObject({ color: 'green', status: 'failed' });
    expect(latest?.reason).toMatch(reason);
  });

  it('unschedulable pods fail fast, quoting the scheduler', async () => {
    const { error } = await runDeploy(kube, {
      namespace: ns.name,
      timeoutMs: 120_000,
      shape: { nodeSelector: { 'greenlight.dev/no-such-node': 'true' } },
    });
    expect(error).toBeInstanceOf(GreenlightError);
    const failure = error as GreenlightError;
    expect(failure.reason).toMatch(/Unschedulable: 0\/\d+ nodes are available/);
    expect(failure.hint).toContain('node selectors');
  });

  it('a rollout past its progress deadline fails with ProgressDeadlineExceeded', async () => {
    const { error } = await runDeploy(kube, {
      namespace: ns.name,
      timeoutMs: 120_000,
      shape: { annotations: podBehaviour.neverReady, progressDeadlineSeconds: 2 },
    });
    expect(error).toBeInstanceOf(GreenlightError);
    expect((error as GreenlightError).reason).toMatch(/ProgressDeadlineExceeded/);
  });

  it('pods that never turn ready fail at the timeout, saying how far the rollout got and why', async () => {
    const { error } = await runDeploy(kube, {
      namespace: ns.name,
      timeoutMs: 8_000,
      shape: { annotations: podBehaviour.neverReady },
    });
    expect(error).toBeInstanceOf(GreenlightError);
    const failure = error as GreenlightError;
    expect(failure.reason).toMatch(/0\/2 ready/);
    expect(failure.reason).toMatch(/pod api-green-\S+ is Running/);
    const blue = await kube.apps.readNamespacedDeployment({ name: 'api-blue', namespace: ns.name });
    expect(blue.status?.readyReplicas).toBe(2);
  });

  it('keep-failed leaves the failed candidate running for debugging', async () => {
    const { error } = await runDeploy(kube, {
      namespace: ns.name,
      keepFailed: true,
      timeoutMs: 60_000,
      shape: { annotations: podBehaviour.crashLoop },
    });
    expect(error).toBeInstanceOf(GreenlightError);
    const green = await kube.apps.readNamespacedDeployment({ name: 'api-green', namespace: ns.name });
    expect(green.spec?.replicas).toBe(2);
  });
});
