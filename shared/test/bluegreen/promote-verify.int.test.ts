// The verification window against real peers: testenv's Prometheus scraping an exporter whose values the test
// sets, and an HTTP endpoint the test controls. A failure after the flip must switch traffic back by itself.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exporter, loadEnv, queryPrometheus, type TestNamespace } from '../../../testenv/src/index.ts';
import { promoteRelease } from '../../src/bluegreen/promote.ts';
import { promote } from '../../src/commands/promote.ts';
import { parseGates } from '../../src/health/spec.ts';
import { GreenlightError } from '../../src/runtime/errors.ts';
import { readInputs } from '../../src/runtime/inputs.ts';
import { SummaryBuilder } from '../../src/runtime/summary.ts';
import {
  APP,
  activeSelectorColor,
  currentRecord,
  ENVIRONMENT,
  recordingHost,
  runContext,
  setupBlueGreen,
  testCluster,
  waitForSelector,
} from './promote-fixture.ts';

const namespaces: TestNamespace[] = [];
afterAll(async () => {
  for (const ns of namespaces) await ns.delete();
});

describe('verification window: Prometheus error rate over the threshold', () => {
  it('flips back to the live colour by itself and marks the candidate failed', async () => {
    const { kube, namespace } = await testCluster('promote-verify-prom');
    namespaces.push(namespace);
    const ns = namespace.name;
    await setupBlueGreen(kube, ns, { live: 'blue' });
    const metric = 'greenlight_test_error_ratio';
    await exporter.set(metric, 0, { suite: ns });
    // Prometheus scrapes every second; wait until it has the healthy value before the promote re-checks it.
    const deadline = Date.now() + 30_000;
    while ((await queryPrometheus(`${metric}{suite="${ns}"}`)).length === 0) {
      if (Date.now() > deadline) throw new Error('Prometheus never scraped the test metric');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const gates = parseGates([
      {
        prometheus: {
          name: 'error rate',
          query: `max(${metric}{suite="{{namespace}}"})`,
          max: 0.05,
          evaluations: 1,
          interval: '1s',
        },
      },
    ]);
    const { host, log } = recordingHost();
    const running = promoteRelease({
      kube,
      app: APP,
      namespace: ns,
      environment: ENVIRONMENT,
      ...runContext(host),
      verifyForMs: 30_000,
      verifyIntervalMs: 500,
      scaleDownDelayMs: 0,
      keepPrevious: false,
      route: 'service',
      timeoutMs: 60_000,
      gates,
      prometheusUrl: loadEnv().TESTENV_PROMETHEUS_URL,
    });
    await waitForSelector(kube, ns, 'green');
    await exporter.set(metric, 0.4, { suite: ns });
    const outcome = await running;
    expect(outcome.rolledBack).toBe(true);
    expect(outcome.activeColor).toBe('blue');
    expect(outcome.revision).toBe(1);
    expect(outcome.verification?.passed).toBe(false);
    expect(outcome.verification?.failure).toMatch(/gate "error rate" read 0.4, above max 0.05/);
    expect(outcome.failure).toBeInstanceOf(GreenlightError);
    expect(log()).toMatch(/switching traffic back to blue/);
    expect(await activeSelectorColor(kube, ns)).toBe('blue');
    const record = await currentRecord(kube, ns);
    expect(record.revisions.map((r) => `${r.revision}:${r.status}`)).toEqual(['1:active', '2:failed']);
    expect(record.revisions[1]?.reason).toMatch(/verification failed: gate "error rate" read 0.4/);
    // The live colour was never scaled down; the failed candidate was (no keep-failed).
    const blue = await kube.apps.readNamespacedDeployment({ name: `${APP}-blue`, namespace: ns });
    expect(blue.spec?.replicas).toBe(2);
    const green = await kube.apps.readNamespacedDeployment({ name: `${APP}-green`, namespace: ns });
    expect(green.spec?.replicas).toBe(0);
    expect(log()).toMatch(/scaled the failed candidate api-green to 0/);
    expect(String(outcome.failure)).toMatch(/was scaled to zero \(keep-failed: true keeps it up\)/);
  });
});

describe('verification window: an HTTP check failing, through the promote command', () => {
  let server: Server;
  let healthy = true;
  let url = '';
  beforeAll(async () => {
    server = createServer((_req, res) => {
      res.writeHead(healthy ? 200 : 503).end(healthy ? 'ok' : 'down');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('switches back, sets rolled-back=true and the live outputs, and fails the step with the reason', async () => {
    const { kube, namespace } = await testCluster('promote-verify-http');
    namespaces.push(namespace);
    const ns = namespace.name;
    await setupBlueGreen(kube, ns, { live: 'blue' });
    const kubeconfig = readFileSync(loadEnv().KUBECONFIG, 'utf8');
    const raw: Record<string, string> = {
      app: APP,
      namespace: ns,
      environment: ENVIRONMENT,
      'verify-for': '30s',
      'scale-down-delay': '0s',
      'keep-failed': 'true',
      'health-checks': `- http: { name: health, url: "${url}?color={{color}}", interval: 500ms, successes: 1 }`,
      kubeconfig,
    };
    const { host, log } = recordingHost();
    const inputs = readInputs(
      promote.inputs,
      (name) => raw[name],
      (secret) => host.secret(secret),
    );
    const summary = new SummaryBuilder();
    const context = { ...runContext(host), summary, env: {} };
    healthy = true;
    const running = promote.run(inputs, context);
    await waitForSelector(kube, ns, 'green');
    healthy = false;
    await expect(running).rejects.toThrow(
      /verify revision 2 on green failed .*gate "health" failed: status 503.*switched back to blue/,
    );
    expect(host.outputs).toMatchObject({ 'rolled-back': 'true', 'active-color': 'blue', revision: '1' });
    expect(await activeSelectorColor(kube, ns)).toBe('blue');
    expect(summary.toString()).toMatch(/Verification: failed/);
    expect(summary.toString()).toMatch(/```mermaid/);
    // keep-failed: the failed candidate keeps running for inspection.
    expect(log()).toMatch(/keep-failed: api-green stays up for inspection/);
    const green = await kube.apps.readNamespacedDeployment({ name: `${APP}-green`, namespace: ns });
    expect(green.spec?.replicas).toBe(2);
    // The kubeconfig's credentials never reach a log line.
    const credential = /(?:client-key-data|token): *(\S+)/.exec(kubeconfig)?.[1];
    expect(credential).toBeTruthy();
    expect(log()).not.toContain(credential);
  });
});
