import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exporter, loadEnv } from '../../../testenv/src/index.ts';
import type { GateSpec } from '../../src/health/spec.ts';
import { readRecord } from '../../src/release/store.ts';
import { GreenlightError } from '../../src/runtime/errors.ts';
import { createTestNamespace, runDeploy, type TestNamespace, testKube } from './fixtures.ts';

const kube = testKube();

function httpGate(url: string, overrides: Partial<GateSpec> = {}): GateSpec {
  return {
    kind: 'http',
    name: `http ${url}`,
    url,
    method: 'GET',
    headers: {},
    status: [200],
    body: 'ok',
    intervalMs: 100,
    successes: 3,
    requestTimeoutMs: 2_000,
    ...overrides,
  } as GateSpec;
}

describe('health gates in a deploy', () => {
  let ns: TestNamespace;
  let server: Server;
  let base: string;
  const seen: string[] = [];
  beforeAll(async () => {
    ns = await createTestNamespace('deploy-gates');
    // A real HTTP server on loopback stands for the candidate's preview endpoint.
    server = createServer((request, response) => {
      seen.push(request.url ?? '');
      if (request.url?.startsWith('/healthy')) response.writeHead(200).end('status: ok');
      else response.writeHead(503).end('status: degraded');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const first = await runDeploy(kube, { namespace: ns.name });
    expect(first.error, first.lines.join('\n')).toBeUndefined();
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await exporter.clear();
    await ns?.delete();
  });

  it('passes endpoints, HTTP (with the colour in the URL) and Prometheus gates, and records them', async () => {
    await exporter.set('greenlight_test_error_ratio', 0.001, { namespace: ns.name, color: 'green' });
    const gates: GateSpec[] = [
      { kind: 'endpoints', name: 'endpoints' },
      httpGate(`${base}/healthy/{{color}}`),
      {
        kind: 'prometheus',
        name: 'error ratio',
        url: loadEnv().TESTENV_PROMETHEUS_URL,
        query: `max(greenlight_test_error_ratio{namespace="${ns.name}",color="{{color}}"})`,
        max: 0.01,
        evaluations: 3,
        intervalMs: 500,
        noData: 'wait',
      },
    ];
    const { result, error, lines } = await runDeploy(kube, {
      namespace: ns.name,
      gates,
      shape: { version: '2.0.0' },
    });
    expect(error, lines.join('\n')).toBeUndefined();
    expect(result.gates.map((g) => [g.name, g.outcome])).toEqual([
      ['endpoints', 'passed'],
      [`http ${base}/healthy/{{color}}`, 'passed'],
      ['error ratio', 'passed'],
    ]);
    expect(seen).toContain('/healthy/green');
    expect(result.gates[2]?.detail).toContain('value 0.001 <= 0.01 for 3 evaluations');
    expect(result.ready).toBe(true);
    expect(result.previewUrl).toBe(`${base}/healthy/green`);
    const { record } = await readRecord(kube, { namespace: ns.name, app: 'api', environment: 'staging' });
    expect(record.revisions.at(-1)?.gates.map((g) => g.passed)).toEqual([true, true, true]);
  });

  it('fails on an HTTP gate that never gets its consecutive successes, scaling the candidate down', async () => {
    const gates: GateSpec[] = [httpGate(`${base}/degraded`, { budgetMs: 1_000 } as Partial<GateSpec>)];
    const { result, error } = await runDeploy(kube, {
      namespace: ns.name,
      gates,
      shape: { version: '2.0.1' },
    });
    expect(error).toBeInstanceOf(GreenlightError);
    expect((error as GreenlightError).reason).toContain('status 503, expected 200');
    expect(result.gates[0]?.outcome).toBe('failed');
    const green = await kube.apps.readNamespacedDeployment({ name: 'api-green', namespace: ns.name });
    expect(green.spec?.replicas).toBe(0);
    const active = await kube.core.readNamespacedService({ name: 'api', namespace: ns.name });
    expect(active.spec?.selector?.['greenlight.dev/color']).toBe('blue');
  });

  it('fails on a Prometheus value over its threshold, quoting the value, and skips the gates after it', async () => {
    await exporter.set('greenlight_test_error_ratio', 0.2, { namespace: ns.name, color: 'green' });
    const gates: GateSpec[] = [
      {
        kind: 'prometheus',
        name: 'error ratio',
        url: loadEnv().TESTENV_PROMETHEUS_URL,
        query: `max(greenlight_test_error_ratio{namespace="${ns.name}",color="{{color}}"})`,
        max: 0.01,
        evaluations: 3,
        intervalMs: 500,
        noData: 'wait',
        budgetMs: 20_000,
      },
      httpGate(`${base}/healthy`),
    ];
    // Wait until Prometheus has scraped the new value, so the gate sees it rather than the old one.
    const deadline = Date.now() + 15_000;
    for (;;) {
      const url = new URL('/api/v1/query', loadEnv().TESTENV_PROMETHEUS_URL);
      url.searchParams.set('query', `max(greenlight_test_error_ratio{namespace="${ns.name}",color="green"})`);
      const body = (await (await fetch(url)).json()) as { data: { result: { value: [number, string] }[] } };
      if (body.data.result[0]?.value[1] === '0.2' || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const { result, error } = await runDeploy(kube, {
      namespace: ns.name,
      gates,
      shape: { version: '2.0.2' },
    });
    expect(error).toBeInstanceOf(GreenlightError);
    expect((error as GreenlightError).reason).toContain('value 0.2 is not <= 0.01');
    expect(result.gates.map((g) => g.outcome)).toEqual(['failed', 'skipped']);
  });

  it('the endpoints gate fails when the candidate has no ready endpoints in its budget', async () => {
    // A Service that selects none of the candidate's pods never lists them: the gate runs out of budget.
    await kube.core.createNamespacedService({
      namespace: ns.name,
      body: { metadata: { name: 'empty' }, spec: { selector: { app: 'nothing' }, ports: [{ port: 80 }] } },
    });
    const gates: GateSpec[] = [
      { kind: 'endpoints', name: 'endpoints', services: ['empty'], budgetMs: 2_000 },
    ];
    const { result, error } = await runDeploy(kube, {
      namespace: ns.name,
      gates,
      shape: { version: '2.0.3' },
    });
    expect(error).toBeInstanceOf(GreenlightError);
    expect(result.gates[0]?.detail).toMatch(/empty: missing api-green-/);
  });
});
