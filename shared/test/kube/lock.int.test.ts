import { V1MicroTime } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestNamespace, type TestNamespace } from '../../../testenv/src/index.ts';
import { acquireLock } from '../../src/kube/lock.ts';
import { timeOf } from '../../src/kube/watch.ts';
import { GreenlightError } from '../../src/runtime/errors.ts';
import { testKube } from '../bluegreen/fixtures.ts';

const kube = testKube();

describe('Lease lock against testenv', () => {
  let ns: TestNamespace;
  beforeAll(async () => {
    ns = await createTestNamespace('lock');
  });
  afterAll(async () => {
    await ns?.delete();
  });

  const read = (name: string) => kube.coordination.readNamespacedLease({ name, namespace: ns.name });

  it('serialises holders: the second fails naming the first, then gets it once released', async () => {
    const name = 'greenlight-a-staging';
    const first = await acquireLock(kube, { namespace: ns.name, name, holder: 'run-1', ttlSeconds: 10 });
    expect((await read(name)).spec?.holderIdentity).toBe('run-1');
    const refused = acquireLock(kube, {
      namespace: ns.name,
      name,
      holder: 'run-2',
      ttlSeconds: 10,
      waitMs: 1_000,
    });
    await expect(refused).rejects.toBeInstanceOf(GreenlightError);
    await expect(refused).rejects.toThrow(/another run holds it: run-1/);
    await first.release();
    await expect(read(name)).rejects.toMatchObject({ code: 404 });
    const second = await acquireLock(kube, {
      namespace: ns.name,
      name,
      holder: 'run-2',
      ttlSeconds: 10,
      waitMs: 1_000,
    });
    expect((await read(name)).spec?.holderIdentity).toBe('run-2');
    await second.release();
  });

  it('a waiter is woken by the release (watch) and takes the lock', async () => {
    const name = 'greenlight-b-staging';
    const first = await acquireLock(kube, { namespace: ns.name, name, holder: 'run-1', ttlSeconds: 30 });
    const waits: string[] = [];
    const waiting = acquireLock(kube, {
      namespace: ns.name,
      name,
      holder: 'run-2',
      ttlSeconds: 30,
      waitMs: 20_000,
      onWait: (holder) => waits.push(holder),
    });
    setTimeout(() => void first.release(), 500);
    const second = await waiting;
    expect(waits).toContain('run-1');
    expect((await read(name)).spec?.holderIdentity).toBe('run-2');
    await second.release();
  });

  it('takes over a lease whose holder stopped renewing, after its duration', async () => {
    const name = 'greenlight-c-staging';
    const stale = new Date(Date.now() - 60_000);
    await kube.coordination.createNamespacedLease({
      namespace: ns.name,
      body: {
        metadata: { name, namespace: ns.name },
        spec: {
          holderIdentity: 'crashed-run',
          leaseDurationSeconds: 2,
          renewTime: new V1MicroTime(stale.getTime()),
          leaseTransitions: 0,
        },
      },
    });
    const lock = await acquireLock(kube, {
      namespace: ns.name,
      name,
      holder: 'run-3',
      ttlSeconds: 10,
      waitMs: 10_000,
    });
    const lease = await read(name);
    expect(lease.spec?.holderIdentity).toBe('run-3');
    expect(lease.spec?.leaseTransitions).toBe(1);
    await lock.release();
  });

  it('a later attempt of the same workflow run takes over at once', async () => {
    const name = 'greenlight-d-staging';
    const first = await acquireLock(kube, {
      namespace: ns.name,
      name,
      holder: 'github:o/r/runs/9/attempts/1',
      ttlSeconds: 30,
    });
    const second = await acquireLock(kube, {
      namespace: ns.name,
      name,
      holder: 'github:o/r/runs/9/attempts/2',
      ttlSeconds: 30,
      waitMs: 1_000,
    });
    expect((await read(name)).spec?.holderIdentity).toBe('github:o/r/runs/9/attempts/2');
    await second.release();
    await first.release();
  });

  it('renews while held, and signals a loss when someone else takes the lease', async () => {
    const name = 'greenlight-e-staging';
    const lock = await acquireLock(kube, { namespace: ns.name, name, holder: 'run-4', ttlSeconds: 3 });
    const before = timeOf((await read(name)).spec?.renewTime) ?? 0;
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const renewed = await read(name);
    expect(timeOf(renewed.spec?.renewTime)).toBeGreaterThan(before);
    await kube.coordination.replaceNamespacedLease({
      name,
      namespace: ns.name,
      body: { ...renewed, spec: { ...renewed.spec, holderIdentity: 'intruder' } },
    });
    const lost = await new Promise<unknown>((resolve) => {
      if (lock.lost.aborted) resolve(lock.lost.reason);
      lock.lost.addEventListener('abort', () => resolve(lock.lost.reason), { once: true });
    });
    expect(String(lost)).toMatch(/lost it: intruder holds it now/);
    await lock.release();
    expect((await read(name)).spec?.holderIdentity).toBe('intruder');
  });
});
