// Cancellation of API requests and watches, against testenv's API server behind a private fault proxy that holds
// one request (a `hang` of 60 s): the run's signal aborts what is in flight, clean-up requests after it still
// work (bounded by their own timeout), and a wait closes its watches, answered or not, when it ends. The process
// tests time the exit of a cancelled process; their bound (10 s) rules out waiting for the held request (60 s)
// and client-node's 30 s watch timeout, the two causes of the late exits seen before.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PrivateProxy, startPrivateProxy } from '../../../e2e/support/proxy.ts';
import type { FaultRule } from '../../../testenv/src/faults.ts';
import { createTestNamespace, type TestNamespace } from '../../../testenv/src/index.ts';
import { connect } from '../../src/kube/client.ts';
import { waitForRollout } from '../../src/kube/rollout.ts';
import { podSource, watchUntil } from '../../src/kube/watch.ts';
import { GreenlightError } from '../../src/runtime/errors.ts';

const child = join(import.meta.dirname, 'cancelled-process.ts');
const EXIT_BOUND_MS = 10_000;
const HOLD_MS = 60_000;

describe('cancellation of API requests and watches', () => {
  let proxy: PrivateProxy;
  let ns: TestNamespace;
  const exits: string[] = [];

  beforeAll(async () => {
    proxy = await startPrivateProxy();
    ns = await createTestNamespace('kube-cancel');
  });
  afterAll(async () => {
    if (exits.length > 0) console.log(`exit after cancellation:\n${exits.join('\n')}`);
    await proxy?.close();
    await ns?.delete();
  });

  const holdRead = (): FaultRule => ({
    kind: 'hang',
    hangMs: HOLD_MS,
    count: 1,
    method: 'GET',
    path: `/namespaces/${ns.name}/configmaps/held($|\\?)`,
  });
  const holdWatch = (): FaultRule => ({
    kind: 'hang',
    hangMs: HOLD_MS,
    count: 1,
    method: 'GET',
    path: `/namespaces/${ns.name}/pods\\?.*watch=true`,
  });

  /** Resolves once the rule has held a request. */
  async function whenApplied(id: string): Promise<void> {
    for (const until = Date.now() + 60_000; Date.now() < until; ) {
      const rule = (await proxy.list()).find((r) => r.id === id);
      if (!rule || rule.applied > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`rule ${id} held no request within 60 s`);
  }

  const kubeThroughProxy = (signal: AbortSignal) =>
    connect({ kubeconfig: proxy.kubeconfig, env: {}, signal });

  it('aborts a request the server holds when the run is cancelled', async () => {
    const rule = await proxy.add(holdRead());
    const run = new AbortController();
    const kube = kubeThroughProxy(run.signal);
    const read = kube.core.readNamespacedConfigMap({ name: 'held', namespace: ns.name });
    read.catch(() => undefined);
    await whenApplied(rule.id);
    run.abort(new Error('cancelled by SIGTERM'));
    await expect(read).rejects.toThrow('cancelled by SIGTERM');
    await proxy.remove(rule.id);
  });

  it('after cancellation, a new request still works, bounded by its own timeout', async () => {
    const run = new AbortController();
    const kube = kubeThroughProxy(run.signal);
    run.abort(new Error('cancelled by SIGTERM'));
    const namespace = await kube.core.readNamespace({ name: ns.name });
    expect(namespace.metadata?.name).toBe(ns.name);

    const rule = await proxy.add(holdRead());
    const held = kube.core.readNamespacedConfigMap({ name: 'held', namespace: ns.name });
    // Aborted by the clean-up timeout (5 s), not by the run's signal and not when the proxy lets go (60 s).
    await expect(held).rejects.toMatchObject({ name: 'TimeoutError' });
    await proxy.remove(rule.id);
  });

  /**
   * Runs cancelled-process.ts with `rule` in place; once the rule holds a request sends SIGTERM (or, for
   * `deadline`, waits for the wait to end by itself) and measures how long the process then takes to exit.
   */
  async function exitAfter(mode: 'request' | 'watch' | 'deadline', rule: FaultRule) {
    const active = await proxy.add(rule);
    const running = spawn(process.execPath, [child, mode, ns.name], {
      env: { ...process.env, KUBECONFIG: proxy.kubeconfigPath },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let endedAt = 0;
    const ended = new Promise<void>((resolve) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (!endedAt && output.includes('ended: ')) {
          endedAt = Date.now();
          resolve();
        }
      };
      running.stdout.on('data', onData);
      running.stderr.on('data', onData);
    });
    const exited = new Promise<number | null>((resolve) => running.on('exit', (code) => resolve(code)));
    try {
      await whenApplied(active.id);
      let from: number;
      if (mode === 'deadline') {
        await ended;
        from = endedAt;
      } else {
        from = Date.now();
        running.kill('SIGTERM');
      }
      const code = await exited;
      const ms = Date.now() - from;
      exits.push(`${mode.padEnd(8)} ${ms} ms`);
      return { code, ms, output };
    } finally {
      running.kill('SIGKILL');
      await proxy.remove(active.id);
    }
  }

  it('a process cancelled during a held request exits promptly, after its clean-up request', async () => {
    const { code, ms, output } = await exitAfter('request', holdRead());
    expect(code, output).toBe(0);
    expect(output).toMatch(/ended: cancelled by SIGTERM/);
    expect(output).toContain(`clean-up read Namespace ${ns.name}`);
    expect(ms, output).toBeLessThan(EXIT_BOUND_MS);
  });

  it('a wait cancelled while its watch is held closes that watch: the process exits promptly', async () => {
    const { code, ms, output } = await exitAfter('watch', holdWatch());
    expect(code, output).toBe(0);
    expect(output).toMatch(/ended: cancelled by SIGTERM/);
    expect(output).toContain(`clean-up read Namespace ${ns.name}`);
    expect(ms, output).toBeLessThan(EXIT_BOUND_MS);
  });

  it('a wait that reaches its deadline while its watch is held closes that watch too', async () => {
    const { code, ms, output } = await exitAfter('deadline', holdWatch());
    expect(code, output).toBe(0);
    expect(output).toMatch(/ended: deadline passed/);
    expect(ms, output).toBeLessThan(EXIT_BOUND_MS);
  });

  it('a rollout wait whose watches were refused until the deadline says so, naming the collections and the status', async () => {
    const rule = await proxy.add({
      kind: 'status',
      status: 503,
      method: 'GET',
      path: `/namespaces/${ns.name}/(deployments|replicasets|pods)\\?.*watch=true`,
    });
    try {
      const kube = kubeThroughProxy(new AbortController().signal);
      const rollout = waitForRollout(kube, {
        namespace: ns.name,
        name: 'api',
        selector: 'app=api',
        label: 'green',
        deadline: Date.now() + 4_000,
      });
      await expect(rollout).rejects.toThrow(
        /the Deployment was never seen when the timeout ran out: the API server refused to list or watch deployments in namespace \S+ \(metadata\.name=api\) \d+ times \(last: 503 Service Unavailable\); replicasets in namespace \S+ \(app=api\) \d+ times/,
      );
      await expect(rollout).rejects.toThrow(
        /Hint: the API server, or a proxy or load balancer in front of it/,
      );
    } finally {
      await proxy.remove(rule.id);
    }
  });

  it("a caller's own timeout error gets the refused lists and watches appended", async () => {
    const rule = await proxy.add({
      kind: 'status',
      status: 503,
      method: 'GET',
      path: `/namespaces/${ns.name}/pods\\?`,
    });
    try {
      const kube = kubeThroughProxy(new AbortController().signal);
      const wait = watchUntil(kube, [podSource(kube, ns.name, 'app=api')] as const, () => undefined, {
        deadline: Date.now() + 2_500,
        what: 'the pods',
        onTimeout: () =>
          new GreenlightError({ what: 'wait for the pods', reason: 'not ready at the deadline' }),
      });
      await expect(wait).rejects.toThrow(
        /not ready at the deadline; the API server refused to list or watch pods in namespace \S+ \(app=api\) (once|\d+ times) \(last: 503 Service Unavailable\)/,
      );
    } finally {
      await proxy.remove(rule.id);
    }
  });
});
