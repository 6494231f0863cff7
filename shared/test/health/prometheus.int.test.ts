import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { exporter, loadEnv } from '../../../testenv/src/index.ts';
import { queryValue, runPrometheusGate } from '../../src/health/prometheus.ts';
import type { PrometheusGateSpec } from '../../src/health/spec.ts';

const url = () => loadEnv().TESTENV_PROMETHEUS_URL;
const gate = (overrides: Partial<PrometheusGateSpec>): PrometheusGateSpec => ({
  kind: 'prometheus',
  name: 'gate',
  query: 'vector(0)',
  max: 1,
  evaluations: 2,
  intervalMs: 200,
  noData: 'wait',
  ...overrides,
});

describe('Prometheus gate against testenv Prometheus', () => {
  afterAll(async () => {
    await exporter.clear();
  });

  it('reads a scalar, a vector and an empty result', async () => {
    expect(await queryValue(url(), 'scalar(vector(0.5))')).toEqual({ value: 0.5, series: 1 });
    expect(await queryValue(url(), 'vector(2)')).toEqual({ value: 2, series: 1 });
    expect(await queryValue(url(), 'greenlight_no_such_metric')).toMatchObject({
      value: undefined,
      why: expect.stringContaining('no data'),
    });
    expect(await queryValue(url(), 'rate(')).toMatchObject({
      value: undefined,
      why: expect.stringContaining('query error'),
    });
  });

  it('passes a value within bounds for the evaluations asked, and a min bound', async () => {
    const result = await runPrometheusGate(gate({ query: 'vector(0.5)', min: 0.1, max: 1 }), url(), {
      deadline: Date.now() + 5_000,
    });
    expect(result).toMatchObject({ passed: true, attempts: 2 });
    expect(result.detail).toContain('within [0.1, 1]');
  });

  it('fails below a min bound at once', async () => {
    const result = await runPrometheusGate(gate({ query: 'vector(0)', min: 0.5, max: undefined }), url(), {
      deadline: Date.now() + 5_000,
    });
    expect(result).toMatchObject({ passed: false, attempts: 1 });
    expect(result.detail).toContain('value 0 is not >= 0.5');
  });

  it.each([
    ['fail', false, /no data/],
    ['pass', true, /no data/],
    ['wait', false, /budget ran out/],
  ] as const)('treats no data as no-data: %s says', async (noData, passed, detail) => {
    const result = await runPrometheusGate(gate({ query: 'greenlight_no_such_metric', noData }), url(), {
      deadline: Date.now() + 700,
    });
    expect(result.passed).toBe(passed);
    expect(result.detail).toMatch(detail);
  });

  it('follows the exporter through a real scrape', async () => {
    await exporter.set('greenlight_prom_gate_test', 3, { case: 'scrape' });
    const result = await runPrometheusGate(
      gate({ query: 'max(greenlight_prom_gate_test{case="scrape"})', min: 3, max: 3, evaluations: 2 }),
      url(),
      { deadline: Date.now() + 15_000 },
    );
    expect(result.passed, result.detail).toBe(true);
  });

  it('says when Prometheus does not answer', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const result = await runPrometheusGate(gate({ noData: 'fail' }), `http://127.0.0.1:${port}/`, {
      deadline: Date.now() + 500,
    });
    expect(result.passed).toBe(false);
    expect(result.detail).toBe('Prometheus did not answer: ECONNREFUSED');
  });
});
