import { hostname } from 'node:os';
import { type V1Lease, V1MicroTime } from '@kubernetes/client-node';
import { GreenlightError } from '../runtime/errors.ts';
import type { Kube } from './client.ts';
import { isConflict, isNotFound, kubeError } from './errors.ts';
import { sleep, withRetry } from './retry.ts';
import { leaseSource, timeOf, watchUntil } from './watch.ts';

/** The Lease that serialises runs for one app and environment: `greenlight-<app>-<environment>`. */
export function lockName(app: string, environment: string): string {
  return `greenlight-${app}-${environment}`;
}

/**
 * Who holds the lock: the workflow run and attempt under GitHub Actions, host and pid for the CLI. Two attempts of
 * one run share the prefix up to `/attempts/`, so a re-run may take over from the attempt it replaces.
 */
export function holderIdentity(env: NodeJS.ProcessEnv = process.env): string {
  if (env.GITHUB_RUN_ID) {
    const repository = env.GITHUB_REPOSITORY ?? 'repository';
    return `github:${repository}/runs/${env.GITHUB_RUN_ID}/attempts/${env.GITHUB_RUN_ATTEMPT ?? '1'}`;
  }
  return `cli:${hostname()}/pid/${process.pid}`;
}

/** True when `other` is an earlier attempt of the same workflow run as `holder` (which GitHub has ended). */
export function sameRun(holder: string, other: string): boolean {
  const run = (identity: string) =>
    identity.startsWith('github:') ? identity.slice(0, identity.indexOf('/attempts/')) : undefined;
  const mine = run(holder);
  return mine !== undefined && mine === run(other) && holder !== other;
}

export interface LockOptions {
  namespace: string;
  name: string;
  holder: string;
  /** How long a holder that stops renewing keeps the lock (default 30 s); renewed every third of it. */
  ttlSeconds?: number;
  /** How long to wait for another holder before failing (default 10 minutes). */
  waitMs?: number;
  signal?: AbortSignal;
  /** Told while waiting for another holder, for a progress line. */
  onWait?: (holder: string, expiresInMs: number) => void;
  /** Told when renewing failed for a while, or the lock was lost (for a warning). */
  onTrouble?: (message: string) => void;
}

/** A lock held by this process. */
export interface HeldLock {
  name: string;
  namespace: string;
  holder: string;
  /** Aborted when the lock is lost (someone took it over because renewals failed): stop work at once. */
  lost: AbortSignal;
  /** Stops renewing and deletes the Lease when this process still holds it. Safe to call twice. */
  release(): Promise<void>;
}

const SKEW_MS = 5_000;

/**
 * Takes the Lease lock `name`: creates it, or takes it over when its holder stopped renewing for longer than
 * its duration (or is an earlier attempt of the same run), or waits (by watching the Lease) until it is free.
 * Fails with who holds it when `waitMs` passes. The returned lock renews itself until released.
 */
export async function acquireLock(kube: Kube, options: LockOptions): Promise<HeldLock> {
  const ttl = options.ttlSeconds ?? 30;
  const waitDeadline = Date.now() + (options.waitMs ?? 600_000);
  const { namespace, name, holder } = options;
  const ref = { kind: 'Lease', name, namespace };
  let observed: { resourceVersion: string; at: number } | undefined;
  for (;;) {
    options.signal?.throwIfAborted();
    const lease = await withRetry(() => readLease(kube, namespace, name), { signal: options.signal }).catch(
      (error: unknown) => {
        throw kubeError(error, { what: 'read the deploy lock', object: ref, server: kube.server });
      },
    );
    const now = Date.now();
    try {
      if (!lease) {
        const created = await kube.coordination.createNamespacedLease({
          namespace,
          body: {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name, namespace, labels: { 'app.kubernetes.io/managed-by': 'greenlight' } },
            spec: {
              holderIdentity: holder,
              leaseDurationSeconds: ttl,
              acquireTime: new V1MicroTime(now),
              renewTime: new V1MicroTime(now),
              leaseTransitions: 0,
            },
          },
        });
        return startHolding(kube, created, options, ttl);
      }
      const spec = lease.spec ?? {};
      const current = spec.holderIdentity ?? '';
      const duration = (spec.leaseDurationSeconds ?? ttl) * 1000;
      const rv = lease.metadata?.resourceVersion ?? '';
      if (observed?.resourceVersion !== rv) observed = { resourceVersion: rv, at: now };
      const renewedAt = timeOf(spec.renewTime as Date | string | undefined) ?? 0;
      const free =
        current === '' ||
        current === holder ||
        sameRun(holder, current) ||
        renewedAt + duration + SKEW_MS < now ||
        now - observed.at > duration;
      if (free) {
        const taken = await kube.coordination.replaceNamespacedLease({
          namespace,
          name,
          body: {
            ...lease,
            spec: {
              ...spec,
              holderIdentity: holder,
              leaseDurationSeconds: ttl,
              acquireTime: current === holder ? spec.acquireTime : new V1MicroTime(now),
              renewTime: new V1MicroTime(now),
              leaseTransitions: (spec.leaseTransitions ?? 0) + (current === holder ? 0 : 1),
            },
          },
        });
        return startHolding(kube, taken, options, ttl);
      }
      if (now >= waitDeadline) {
        throw new GreenlightError({
          what: 'take the deploy lock',
          object: ref,
          reason: `another run holds it: ${current} (renewed ${Math.round((now - renewedAt) / 1000)} s ago)`,
          hint: 'wait for that run to finish, or cancel it; a lock whose holder stops renewing frees itself after its duration',
        });
      }
      const expiresIn = Math.max(0, Math.min(observed.at + duration, renewedAt + duration + SKEW_MS) - now);
      options.onWait?.(current, expiresIn);
      await waitForChange(
        kube,
        namespace,
        name,
        rv,
        Math.min(now + expiresIn + 250, waitDeadline),
        options.signal,
      );
    } catch (error) {
      if (options.signal?.aborted) throw error;
      // Someone else created or changed the Lease between our read and write: look again.
      if (isConflict(error)) continue;
      throw kubeError(error, { what: 'take the deploy lock', object: ref, server: kube.server });
    }
  }
}

async function readLease(kube: Kube, namespace: string, name: string): Promise<V1Lease | undefined> {
  try {
    return await kube.coordination.readNamespacedLease({ namespace, name });
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** Waits until the Lease's resourceVersion is no longer `seen` (or it is deleted), or until `until`. */
async function waitForChange(
  kube: Kube,
  namespace: string,
  name: string,
  seen: string,
  until: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  const elapsed = new Error('elapsed');
  try {
    await watchUntil(
      kube,
      [leaseSource(kube, namespace, name)] as const,
      ([leases]) => {
        const lease = leases[0];
        return !lease || lease.metadata?.resourceVersion !== seen ? true : undefined;
      },
      { deadline: until, signal, what: `the lock ${name}`, onTimeout: () => elapsed },
    );
  } catch (error) {
    if (error !== elapsed) throw error;
  }
}

function startHolding(kube: Kube, lease: V1Lease, options: LockOptions, ttl: number): HeldLock {
  const { namespace, name, holder } = options;
  const lostController = new AbortController();
  let current = lease;
  let lastRenewed = Date.now();
  let released = false;
  let renewing: Promise<void> = Promise.resolve();

  const renew = async () => {
    if (released || lostController.signal.aborted) return;
    try {
      current = await kube.coordination.replaceNamespacedLease({
        namespace,
        name,
        body: { ...current, spec: { ...current.spec, renewTime: new V1MicroTime(Date.now()) } },
      });
      lastRenewed = Date.now();
    } catch (error) {
      if (isConflict(error)) {
        const fresh = await readLease(kube, namespace, name).catch(() => undefined);
        if (fresh?.spec?.holderIdentity === holder) {
          current = fresh;
          return;
        }
        lose(`${fresh?.spec?.holderIdentity ?? 'nobody'} holds it now`);
        return;
      }
      if (isNotFound(error)) {
        lose('the Lease was deleted');
        return;
      }
      options.onTrouble?.(`renewing the lock ${name} failed: ${(error as Error).message}`);
      if (Date.now() - lastRenewed > ttl * 1000) lose(`it could not be renewed for ${ttl} s`);
    }
  };
  const lose = (why: string) => {
    clearInterval(timer);
    options.onTrouble?.(`lost the lock ${name}: ${why}`);
    lostController.abort(
      new GreenlightError({
        what: 'hold the deploy lock',
        object: { kind: 'Lease', name, namespace },
        reason: `lost it: ${why}`,
        hint: 'another run may be deploying the same app and environment; re-run once it has finished',
      }),
    );
  };
  const timer = setInterval(
    () => {
      renewing = renewing.then(renew);
    },
    Math.max(1000, (ttl * 1000) / 3),
  );
  timer.unref();

  return {
    name,
    namespace,
    holder,
    lost: lostController.signal,
    async release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      await renewing;
      if (lostController.signal.aborted) return;
      for (let attempt = 0; attempt < 5; attempt++) {
        const fresh = await withRetry(() => readLease(kube, namespace, name)).catch((error: unknown) => {
          throw kubeError(error, {
            what: 'release the deploy lock',
            object: { kind: 'Lease', name, namespace },
          });
        });
        if (!fresh || fresh.spec?.holderIdentity !== holder) return;
        try {
          await kube.coordination.deleteNamespacedLease({
            namespace,
            name,
            body: { preconditions: { resourceVersion: fresh.metadata?.resourceVersion } },
          });
          return;
        } catch (error) {
          if (isNotFound(error)) return;
          if (isConflict(error)) {
            await sleep(100);
            continue;
          }
          throw kubeError(error, {
            what: 'release the deploy lock',
            object: { kind: 'Lease', name, namespace },
          });
        }
      }
    },
  };
}
