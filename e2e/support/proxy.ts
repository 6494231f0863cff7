// A private instance of testenv's fault proxy (testenv/src/fault-proxy.ts) in front of the same API server.
//
// testenv runs one fault proxy that every engineer's tests share: its request counts are global and another
// suite may clear all fault rules at any moment. The reliability suite and the benchmarks count requests and
// inject faults per run, so they start the same proxy code on ports of their own, with the same certificates
// and the same front-proxy authentication, and talk to its control API directly.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FaultProxyOptions, type ProxyStats, startFaultProxy } from '../../testenv/src/fault-proxy.ts';
import type { ActiveFault, FaultRule } from '../../testenv/src/faults.ts';
import { loadEnv } from '../../testenv/src/index.ts';
import { repoRoot } from '../runner.ts';

export type { ProxyStats } from '../../testenv/src/fault-proxy.ts';
export type { FaultRule } from '../../testenv/src/faults.ts';

/** One request the proxy saw. */
export type SeenRequest = ProxyStats['recent'][number];

export interface PrivateProxy {
  /** Kubeconfig file (the testenv admin) whose server is this proxy. */
  kubeconfigPath: string;
  /** The same kubeconfig as text, for a `kubeconfig` input. */
  kubeconfig: string;
  server: string;
  add(rule: FaultRule): Promise<ActiveFault>;
  remove(id: string): Promise<void>;
  clear(): Promise<void>;
  list(): Promise<ActiveFault[]>;
  stats(): Promise<ProxyStats>;
  resetStats(): Promise<void>;
  /** Runs `fn` with the rule in place and removes it afterwards. */
  with<T>(rule: FaultRule, fn: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** A free TCP port on loopback (the kernel picks it; it is released at once for the proxy to take). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Starts a private fault proxy with testenv's configuration on free ports. */
export async function startPrivateProxy(): Promise<PrivateProxy> {
  const env = loadEnv();
  const shared = JSON.parse(
    readFileSync(join(repoRoot, '.testenv', 'run', 'fault-proxy.json'), 'utf8'),
  ) as FaultProxyOptions;
  let running: { close: () => Promise<void> } | undefined;
  let port = 0;
  let controlPort = 0;
  for (let attempt = 1; !running; attempt++) {
    port = await freePort();
    controlPort = await freePort();
    try {
      running = await startFaultProxy({ ...shared, port, controlPort });
    } catch (error) {
      // Another process took a port between the probe and the listen: pick again.
      if (attempt >= 5) throw error;
    }
  }
  const server = `https://127.0.0.1:${port}`;
  const control = `http://127.0.0.1:${controlPort}`;
  const text = readFileSync(env.TESTENV_PROXY_KUBECONFIG, 'utf8').replace(
    /^(\s*server:\s*).*$/m,
    `$1"${server}"`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'greenlight-proxy-'));
  const kubeconfigPath = join(dir, 'kubeconfig');
  writeFileSync(kubeconfigPath, text, { mode: 0o600 });

  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${control}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const answer = await response.text();
    if (!response.ok && response.status !== 404)
      throw new Error(`${method} ${control}${path}: ${response.status} ${answer}`);
    return JSON.parse(answer) as T;
  };
  const proxy: PrivateProxy = {
    kubeconfigPath,
    kubeconfig: text,
    server,
    add: (rule) => call('POST', '/faults', rule),
    remove: async (id) => {
      await call('DELETE', `/faults/${encodeURIComponent(id)}`);
    },
    clear: async () => {
      await call('DELETE', '/faults');
    },
    list: () => call('GET', '/faults'),
    stats: () => call('GET', '/stats'),
    resetStats: async () => {
      await call('DELETE', '/stats');
    },
    async with(rule, fn) {
      const active = await proxy.add(rule);
      try {
        return await fn();
      } finally {
        await proxy.remove(active.id);
      }
    },
    close: async () => {
      await running?.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return proxy;
}

/** Requests that change the cluster: anything but GET (reads and watches), HEAD and OPTIONS. */
export function writes(requests: readonly SeenRequest[]): SeenRequest[] {
  return requests.filter((r) => !['GET', 'HEAD', 'OPTIONS'].includes(r.method));
}

const isWatch = (r: SeenRequest) => r.method === 'GET' && /[?&]watch=(true|1)/.test(r.path);

/**
 * Counts requests by verb, telling watches (GET with watch=true) from reads. The proxy counts every request by
 * method as it arrives, but lists a request among the recent ones only when its answer ends, which a watch the
 * client closes never does: so WATCH is the GETs counted on arrival less the plain GETs that completed.
 */
export function byVerb(stats: ProxyStats): Record<string, number> {
  const counts: Record<string, number> = { ...stats.byMethod };
  const reads = stats.recent.filter((r) => r.method === 'GET' && !isWatch(r)).length;
  if (counts.GET !== undefined) {
    counts.WATCH = counts.GET - reads;
    counts.GET = reads;
  }
  return counts;
}
