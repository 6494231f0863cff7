import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpointDifference, readyEndpointPods } from '../../src/health/endpoints.ts';
import { runHttpGate } from '../../src/health/http.ts';
import {
  expandPlaceholders,
  GATE_PLACEHOLDERS,
  type HttpGateSpec,
  parseGates,
} from '../../src/health/spec.ts';
import { InputError } from '../../src/runtime/errors.ts';

describe('parseGates', () => {
  it('defaults to the endpoints gate', () => {
    expect(parseGates(undefined)).toEqual([{ kind: 'endpoints', name: 'endpoints' }]);
  });

  it('reads each kind with its defaults', () => {
    const gates = parseGates([
      { endpoints: {} },
      {
        http: {
          url: 'http://api-preview/healthz',
          status: [200, 204],
          body: 'ok',
          latency: '250ms',
          successes: 5,
          budget: '1m',
        },
      },
      { prometheus: { query: 'sum(rate(errors[1m]))', max: 0.01 } },
    ]);
    expect(gates[1]).toMatchObject({
      kind: 'http',
      url: 'http://api-preview/healthz',
      method: 'GET',
      status: [200, 204],
      body: 'ok',
      latencyMs: 250,
      successes: 5,
      budgetMs: 60_000,
      intervalMs: 2_000,
    });
    expect(gates[2]).toMatchObject({
      kind: 'prometheus',
      max: 0.01,
      evaluations: 3,
      intervalMs: 10_000,
      noData: 'wait',
    });
  });

  it.each([
    ['not a list', { http: {} }, /must be a YAML list/],
    ['two keys', [{ http: {}, endpoints: {} }], /exactly one key/],
    ['an unknown kind', [{ tcp: {} }], /unknown gate "tcp"/],
    ['no url', [{ http: {} }], /`url` is required/],
    ['a bad url', [{ http: { url: 'api/healthz' } }], /must start with http/],
    ['a bad status', [{ http: { url: 'http://x', status: 'fine' } }], /HTTP status codes/],
    ['a bad duration', [{ http: { url: 'http://x', latency: 'fast' } }], /`latency` must be a duration/],
    ['an unknown field', [{ http: { url: 'http://x', retries: 3 } }], /unknown field `retries`/],
    ['no threshold', [{ prometheus: { query: 'up' } }], /give a threshold/],
    ['min above max', [{ prometheus: { query: 'up', min: 2, max: 1 } }], /above/],
    ['zero evaluations', [{ prometheus: { query: 'up', max: 1, evaluations: 0 } }], /at least 1/],
  ])('refuses %s', (_, value, message) => {
    expect(() => parseGates(value)).toThrow(InputError);
    expect(() => parseGates(value)).toThrow(message);
  });

  it('lists every problem at once', () => {
    try {
      parseGates([{ http: {} }, { prometheus: {} }]);
      expect.unreachable();
    } catch (error) {
      expect((error as InputError).problems.length).toBeGreaterThanOrEqual(3);
    }
  });

  const known = '(known: {{app}}, {{color}}, {{namespace}}, {{environment}}, {{revision}})';

  it.each([
    [
      'a misspelt colour in a query',
      [{ prometheus: { query: 'errors{color="{{colour}}"}', max: 1 } }],
      `health-checks[0].prometheus: unknown placeholder {{colour}} in \`query\` ${known}`,
    ],
    [
      'a capital letter in a URL',
      [{ http: { url: 'http://{{app}}-preview/{{Color}}' } }],
      `health-checks[0].http: unknown placeholder {{Color}} in \`url\` ${known}`,
    ],
    [
      'a chart value in a header',
      [{ endpoints: {} }, { http: { url: 'http://x', headers: { 'X-Release': '{{ .Release.Name }}' } } }],
      `health-checks[1].http: unknown placeholder {{ .Release.Name }} in \`headers.X-Release\` ${known}`,
    ],
    [
      'an empty placeholder',
      [{ http: { url: 'http://x/{{}}' } }],
      `health-checks[0].http: unknown placeholder {{}} in \`url\` ${known}`,
    ],
  ])('refuses %s when parsing, naming it and the known ones', (_, value, message) => {
    try {
      parseGates(value);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).problems).toEqual([message]);
    }
  });

  it('names every unknown placeholder, in every gate', () => {
    try {
      parseGates([
        { http: { url: 'http://{{application}}/{{colour}}' } },
        { prometheus: { query: 'up{env="{{env}}"}', max: 1 } },
      ]);
      expect.unreachable();
    } catch (error) {
      const problems = (error as InputError).problems;
      expect(problems).toHaveLength(3);
      expect(problems.map((p) => /\{\{[^}]*\}\}/.exec(p)?.[0])).toEqual([
        '{{application}}',
        '{{colour}}',
        '{{env}}',
      ]);
    }
  });

  it('takes every known placeholder, with or without spaces, and leaves the text for expansion', () => {
    const all = GATE_PLACEHOLDERS.map((name, i) => (i % 2 ? `{{ ${name} }}` : `{{${name}}}`)).join('/');
    const [http, prometheus] = parseGates([
      { http: { url: `http://x/${all}`, headers: { 'X-Colour': '{{color}}' } } },
      { prometheus: { query: `up{v="${all}"}`, max: 1 } },
    ]);
    expect(http).toMatchObject({ url: `http://x/${all}`, headers: { 'X-Colour': '{{color}}' } });
    expect(prometheus).toMatchObject({ query: `up{v="${all}"}` });
    const values = { app: 'api', color: 'green', namespace: 'shop', environment: 'prod', revision: '7' };
    expect(expandPlaceholders((http as HttpGateSpec).url, values)).toBe('http://x/api/green/shop/prod/7');
  });

  it('leaves braces in fields it does not expand alone (body text)', () => {
    expect(() => parseGates([{ http: { url: 'http://x', body: '{{colour}}' } }])).not.toThrow();
  });

  it('expands placeholders and leaves unknown ones', () => {
    expect(
      expandPlaceholders('errors{color="{{color}}",app="{{ app }}"} {{x}}', { color: 'green', app: 'api' }),
    ).toBe('errors{color="green",app="api"} {{x}}');
  });
});

describe('endpoint comparison', () => {
  it('reads ready pods from slices and names what differs', () => {
    const endpoints = readyEndpointPods([
      {
        addressType: 'IPv4',
        endpoints: [
          { addresses: ['10.0.0.1'], conditions: { ready: true }, targetRef: { kind: 'Pod', name: 'a' } },
          { addresses: ['10.0.0.2'], conditions: { ready: false }, targetRef: { kind: 'Pod', name: 'b' } },
          { addresses: ['10.0.0.3'], targetRef: { kind: 'Pod', name: 'old' } },
        ],
      },
    ]);
    expect([...endpoints].sort()).toEqual(['a', 'old']);
    expect(endpointDifference(endpoints, new Set(['a', 'b']))).toBe(
      "missing b; listing pods that are not the candidate's ready pods: old",
    );
    expect(endpointDifference(new Set(['a']), new Set(['a']))).toBe('');
  });
});

describe('HTTP gate against a real server', () => {
  let server: Server;
  let base: string;
  let failuresLeft = 0;
  beforeAll(async () => {
    server = createServer((request, response) => {
      if (request.url === '/flaky' && failuresLeft > 0) {
        failuresLeft--;
        response.writeHead(503).end('warming up');
        return;
      }
      if (request.url === '/slow') {
        setTimeout(() => response.writeHead(200).end('ok'), 150);
        return;
      }
      response
        .writeHead(request.url === '/missing' ? 404 : 200)
        .end(request.url === '/missing' ? 'nope' : 'status: ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const gate = (path: string, overrides: Partial<HttpGateSpec> = {}): HttpGateSpec => ({
    kind: 'http',
    name: `http ${path}`,
    url: `${base}${path}`,
    method: 'GET',
    headers: {},
    status: [200],
    intervalMs: 20,
    successes: 3,
    requestTimeoutMs: 2_000,
    ...overrides,
  });

  it('passes after consecutive successes, counting again after a failure', async () => {
    failuresLeft = 2;
    const result = await runHttpGate(gate('/flaky', { body: 'ok' }), { deadline: Date.now() + 5_000 });
    expect(result.passed).toBe(true);
    expect(result.attempts).toBe(5);
    expect(result.observations.some((o) => o.includes('status 503'))).toBe(true);
  });

  it('fails with the last observation when the status never matches', async () => {
    const result = await runHttpGate(gate('/missing'), { deadline: Date.now() + 300 });
    expect(result.passed).toBe(false);
    expect(result.detail).toContain('status 404, expected 200');
  });

  it('fails a body that lacks the expected text and a response over the latency limit', async () => {
    const body = await runHttpGate(gate('/', { body: 'healthy' }), { deadline: Date.now() + 200 });
    expect(body.detail).toContain('body lacks "healthy"');
    const slow = await runHttpGate(gate('/slow', { latencyMs: 50 }), { deadline: Date.now() + 500 });
    expect(slow.passed).toBe(false);
    expect(slow.detail).toMatch(/took \d+ ms, limit 50 ms/);
  });

  it('reports a refused connection', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const result = await runHttpGate(gate('/', { url: `http://127.0.0.1:${port}/` }), {
      deadline: Date.now() + 100,
    });
    expect(result.detail).toContain('request failed: ECONNREFUSED');
  });
});
