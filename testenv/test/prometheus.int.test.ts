import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { exporter, queryPrometheus } from '../src/index.ts';

/** Prometheus has no watch: poll its query API (it scrapes every second). */
async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('Prometheus over the test exporter', () => {
  it('answers a query over a metric the test sets, and sees it change', async () => {
    const run = randomBytes(4).toString('hex');
    await exporter.set('greenlight_testenv_probe', 42, { run });
    const first = await eventually('the first value', async () => {
      const result = await queryPrometheus(`greenlight_testenv_probe{run="${run}"}`);
      return result[0]?.value[1] === '42' ? result : undefined;
    });
    expect(first[0]?.metric.job).toBe('testenv-exporter');
    await exporter.set('greenlight_testenv_probe', 7, { run });
    await eventually('the new value', async () => {
      const result = await queryPrometheus(`greenlight_testenv_probe{run="${run}"}`);
      return result[0]?.value[1] === '7' ? true : undefined;
    });
  });

  it('computes an error ratio from counters', async () => {
    const run = randomBytes(4).toString('hex');
    await exporter.increment('greenlight_testenv_requests_total', 90, { run, code: '200' });
    await exporter.increment('greenlight_testenv_requests_total', 10, { run, code: '500' });
    const ratio = await eventually('the error ratio', async () => {
      const result = await queryPrometheus(
        `sum(greenlight_testenv_requests_total{run="${run}",code="500"}) / sum(greenlight_testenv_requests_total{run="${run}"})`,
      );
      // Until both series have been scraped the ratio is 0; wait for the full picture.
      const value = result[0] ? Number(result[0].value[1]) : undefined;
      return value !== undefined && value > 0 ? value : undefined;
    });
    expect(ratio).toBeCloseTo(0.1, 5);
  });
});
