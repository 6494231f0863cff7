import { sleep } from '../kube/retry.ts';
import type { GateRunOptions } from './http.ts';
import { type GateResult, Observations } from './result.ts';
import type { PrometheusGateSpec } from './spec.ts';

/** One evaluation of the query: its value, or why there is none. */
export type PrometheusReading = { value: number; series: number } | { value: undefined; why: string };

interface QueryResponse {
  status: 'success' | 'error';
  error?: string;
  data?: {
    resultType: 'vector' | 'scalar' | 'matrix' | 'string';
    result: { value: [number, string] }[] | [number, string];
  };
}

/** Runs an instant query; a vector's first sample (or the scalar) is the value. Never throws for a bad answer. */
export async function queryValue(
  baseUrl: string,
  query: string,
  signal?: AbortSignal,
): Promise<PrometheusReading> {
  const url = new URL('api/v1/query', baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  url.searchParams.set('query', query);
  const timeout = AbortSignal.timeout(10_000);
  let body: QueryResponse;
  try {
    const response = await fetch(url, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    body = (await response.json()) as QueryResponse;
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const reason = cause?.code ?? cause?.message ?? (error as Error).message;
    return { value: undefined, why: `Prometheus did not answer: ${reason}` };
  }
  if (body.status !== 'success' || !body.data)
    return { value: undefined, why: `query error: ${body.error ?? 'unknown'}` };
  const { resultType, result } = body.data;
  if (resultType === 'scalar') return { value: Number((result as [number, string])[1]), series: 1 };
  if (resultType !== 'vector')
    return { value: undefined, why: `the query gives a ${resultType}; use an instant vector or scalar` };
  const samples = result as { value: [number, string] }[];
  if (samples.length === 0) return { value: undefined, why: 'no data (the query returned no series)' };
  return { value: Number(samples[0]?.value[1]), series: samples.length };
}

function bounds(gate: PrometheusGateSpec): string {
  if (gate.min !== undefined && gate.max !== undefined) return `within [${gate.min}, ${gate.max}]`;
  return gate.max !== undefined ? `<= ${gate.max}` : `>= ${gate.min}`;
}

/**
 * Runs a Prometheus gate: evaluates the query every `interval` until the value has been within bounds
 * `evaluations` times in a row. A value out of bounds fails at once (the metric says the candidate is unhealthy);
 * no data waits (or fails, or passes, by `no-data`) until the deadline.
 */
export async function runPrometheusGate(
  gate: PrometheusGateSpec,
  baseUrl: string,
  options: GateRunOptions,
): Promise<GateResult> {
  const started = Date.now();
  const observations = new Observations();
  let streak = 0;
  let attempts = 0;
  const result = (passed: boolean, detail: string): GateResult => ({
    kind: 'prometheus',
    name: gate.name,
    outcome: passed ? 'passed' : 'failed',
    passed,
    detail,
    durationMs: Date.now() - started,
    attempts,
    observations: observations.items,
  });
  for (;;) {
    options.signal?.throwIfAborted();
    attempts++;
    const reading = await queryValue(baseUrl, gate.query, options.signal);
    if (reading.value === undefined || Number.isNaN(reading.value)) {
      const why = reading.value === undefined ? reading.why : 'the value is NaN';
      observations.add(why);
      if (gate.noData === 'fail') return result(false, why);
      if (gate.noData === 'pass') streak++;
      else streak = 0;
    } else if (
      (gate.max !== undefined && reading.value > gate.max) ||
      (gate.min !== undefined && reading.value < gate.min)
    ) {
      observations.add(`value ${reading.value}`);
      return result(false, `value ${reading.value} is not ${bounds(gate)} (evaluation ${attempts})`);
    } else {
      observations.add(`value ${reading.value}`);
      streak++;
    }
    options.progress?.(
      `${gate.name}: ${streak}/${gate.evaluations} evaluations ${bounds(gate)} (last: ${observations.last()})`,
    );
    if (streak >= gate.evaluations) {
      return result(
        true,
        `${observations.last()} ${bounds(gate)} for ${gate.evaluations} evaluations in a row`,
      );
    }
    if (Date.now() + gate.intervalMs > options.deadline) {
      return result(
        false,
        `${streak}/${gate.evaluations} evaluations when the budget ran out; last: ${observations.last()}`,
      );
    }
    await sleep(gate.intervalMs, options.signal);
  }
}
