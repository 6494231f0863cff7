// A fault-injecting HTTPS proxy in front of the API server.
//
// Clients connect to it exactly as to the API server (TLS, the testenv CA,
// client certificates or bearer tokens). It terminates TLS and forwards each
// request upstream:
//   - a client that presented a certificate signed by the testenv CA is passed
//     on with front-proxy authentication (the proxy's front-proxy-client
//     certificate plus X-Remote-User / X-Remote-Group from the client's
//     certificate), so the API server sees the same user and groups;
//   - any other client is forwarded as it came (its Authorization header, if
//     any), without a client certificate.
// A test tells it over the control URL to add latency, answer an error status,
// reset the connection or hang, for N requests or a time window, optionally
// only for requests matching a method and a path pattern. It counts requests.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { type ActiveFault, type FaultKind, statusBody, takeFault, validateFaultRule } from './faults.ts';

export interface FaultProxyOptions {
  /** Address to listen on for proxied traffic (TLS). */
  host: string;
  port: number;
  /** Address of the plain-HTTP control API. */
  controlPort: number;
  upstream: { host: string; port: number };
  caFile: string;
  serving: { cert: string; key: string };
  frontProxyClient: { cert: string; key: string };
}

export interface ProxyStats {
  total: number;
  byMethod: Record<string, number>;
  byStatus: Record<string, number>;
  faults: Record<FaultKind, number>;
  /** The most recent requests (at most 1000), oldest first. */
  recent: {
    at: string;
    method: string;
    path: string;
    status: number | 'reset' | 'hang' | 'error';
    fault?: FaultKind;
    ms: number;
  }[];
}

function emptyStats(): ProxyStats {
  return {
    total: 0,
    byMethod: {},
    byStatus: {},
    faults: { latency: 0, status: 0, reset: 0, hang: 0 },
    recent: [],
  };
}

const hopByHop = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
]);

export async function startFaultProxy(options: FaultProxyOptions): Promise<{ close: () => Promise<void> }> {
  const ca = fs.readFileSync(options.caFile);
  const rules: ActiveFault[] = [];
  let stats = emptyStats();
  const hung = new Set<TLSSocket>();

  const asUser = new https.Agent({
    keepAlive: true,
    ca,
    cert: fs.readFileSync(options.frontProxyClient.cert),
    key: fs.readFileSync(options.frontProxyClient.key),
  });
  const asIs = new https.Agent({ keepAlive: true, ca });

  const record = (
    method: string,
    path: string,
    status: ProxyStats['recent'][number]['status'],
    fault: FaultKind | undefined,
    started: number,
  ) => {
    stats.byStatus[String(status)] = (stats.byStatus[String(status)] ?? 0) + 1;
    stats.recent.push({
      at: new Date(started).toISOString(),
      method,
      path,
      status,
      ...(fault ? { fault } : {}),
      ms: Date.now() - started,
    });
    if (stats.recent.length > 1000) stats.recent.splice(0, stats.recent.length - 1000);
  };

  const forward = (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    started: number,
    fault: FaultKind | undefined,
  ) => {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const socket = req.socket as TLSSocket;
    const headers: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (hopByHop.has(name) || name.startsWith('x-remote-')) continue;
      if (value !== undefined) headers[name] = value;
    }
    let agent = asIs;
    const peer = socket.authorized ? socket.getPeerCertificate() : undefined;
    if (peer?.subject?.CN) {
      const groups = peer.subject.O;
      headers['x-remote-user'] = Array.isArray(peer.subject.CN) ? peer.subject.CN[0] : peer.subject.CN;
      if (groups) headers['x-remote-group'] = Array.isArray(groups) ? groups : [groups];
      agent = asUser;
    }
    const upstream = https.request(
      {
        host: options.upstream.host,
        port: options.upstream.port,
        method,
        path,
        headers,
        agent,
        servername: 'localhost',
      },
      (upstreamRes) => {
        const out: http.OutgoingHttpHeaders = {};
        for (const [name, value] of Object.entries(upstreamRes.headers)) {
          if (hopByHop.has(name) || value === undefined) continue;
          out[name] = value;
        }
        res.writeHead(upstreamRes.statusCode ?? 502, out);
        res.flushHeaders();
        upstreamRes.pipe(res);
        upstreamRes.on('end', () => record(method, path, upstreamRes.statusCode ?? 502, fault, started));
        upstreamRes.on('error', () => res.destroy());
      },
    );
    upstream.on('error', (error) => {
      record(method, path, 'error', fault, started);
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({ ...statusBody(502), message: `testenv fault proxy: upstream: ${error.message}` }),
        );
      } else {
        res.destroy();
      }
    });
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  };

  const handle = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const started = Date.now();
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    stats.total += 1;
    stats.byMethod[method] = (stats.byMethod[method] ?? 0) + 1;
    const fault = takeFault(rules, method, path, started);
    if (!fault) return forward(req, res, started, undefined);
    stats.faults[fault.kind] += 1;
    switch (fault.kind) {
      case 'latency': {
        const timer = setTimeout(() => forward(req, res, started, 'latency'), fault.latencyMs ?? 0);
        res.on('close', () => clearTimeout(timer));
        return;
      }
      case 'status': {
        const code = fault.status ?? 500;
        const headers: http.OutgoingHttpHeaders = { 'content-type': 'application/json' };
        if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
        else if (code === 429) headers['retry-after'] = '1';
        req.resume();
        res.writeHead(code, headers);
        res.end(JSON.stringify(statusBody(code)));
        record(method, path, code, 'status', started);
        return;
      }
      case 'reset': {
        record(method, path, 'reset', 'reset', started);
        resetConnection(req.socket as TLSSocket);
        return;
      }
      case 'hang': {
        record(method, path, 'hang', 'hang', started);
        const socket = req.socket as TLSSocket;
        hung.add(socket);
        const timer = setTimeout(() => socket.destroy(), fault.hangMs ?? 600_000);
        socket.once('close', () => {
          clearTimeout(timer);
          hung.delete(socket);
        });
        return;
      }
    }
  };

  const proxy = https.createServer(
    {
      cert: fs.readFileSync(options.serving.cert),
      key: fs.readFileSync(options.serving.key),
      ca,
      requestCert: true,
      rejectUnauthorized: false,
    },
    handle,
  );
  // Streams (exec, port-forward) are not simulated by KWOK; refuse them plainly.
  proxy.on('upgrade', (_req, socket) => {
    socket.end('HTTP/1.1 501 Not Implemented\r\ncontent-length: 0\r\n\r\n');
  });

  const control = http.createServer((req, res) => {
    const reply = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(`${JSON.stringify(body)}\n`);
    };
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://control');
      try {
        if (url.pathname === '/healthz') return reply(200, { ok: true });
        if (url.pathname === '/faults' && req.method === 'GET') return reply(200, rules);
        if (url.pathname === '/faults' && req.method === 'POST') {
          const rule = validateFaultRule(JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null'));
          const active: ActiveFault = { ...rule, id: randomUUID(), applied: 0 };
          if (rule.durationMs !== undefined) active.until = Date.now() + rule.durationMs;
          rules.push(active);
          return reply(201, active);
        }
        if (url.pathname === '/faults' && req.method === 'DELETE') {
          rules.splice(0, rules.length);
          return reply(200, { cleared: true });
        }
        const one = /^\/faults\/([^/]+)$/.exec(url.pathname);
        if (one && req.method === 'DELETE') {
          const index = rules.findIndex((rule) => rule.id === one[1]);
          if (index >= 0) rules.splice(index, 1);
          return reply(index >= 0 ? 200 : 404, { removed: index >= 0 });
        }
        if (url.pathname === '/stats' && req.method === 'GET') return reply(200, stats);
        if (url.pathname === '/stats' && req.method === 'DELETE') {
          stats = emptyStats();
          return reply(200, { reset: true });
        }
        return reply(404, { error: `no route ${req.method} ${url.pathname}` });
      } catch (error) {
        return reply(400, { error: (error as Error).message });
      }
    });
  });

  await listen(proxy, options.port, options.host);
  await listen(control, options.controlPort, options.host);
  return {
    close: async () => {
      for (const socket of hung) socket.destroy();
      asUser.destroy();
      asIs.destroy();
      proxy.closeAllConnections();
      control.closeAllConnections();
      await Promise.all([new Promise((r) => proxy.close(r)), new Promise((r) => control.close(r))]);
    },
  };
}

/** Drops the connection with a TCP RST where the platform allows, else closes it abruptly. */
function resetConnection(socket: TLSSocket): void {
  const raw = (socket as unknown as { _parent?: { resetAndDestroy?: () => void } })._parent;
  if (raw?.resetAndDestroy) {
    try {
      raw.resetAndDestroy();
      socket.destroy();
      return;
    } catch (error) {
      process.stderr.write(
        `fault proxy: TCP reset unavailable (${(error as Error).message}); closing instead\n`,
      );
    }
  }
  socket.destroy();
}

function listen(server: http.Server | https.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
