import { sleep } from '../kube/retry.ts';
import { type GateResult, Observations } from './result.ts';
import type { HttpGateSpec } from './spec.ts';

export interface GateRunOptions {
  /** Epoch milliseconds by which the gate must have passed. */
  deadline: number;
  signal?: AbortSignal;
  /** Told about each observation, for progress lines. */
  progress?: (text: string) => void;
}

/** The verdict on one HTTP response. */
export interface HttpObservation {
  ok: boolean;
  text: string;
  latencyMs: number;
}

/** Makes one request and judges it against the gate: status, body, latency. Never throws. */
export async function probeHttp(gate: HttpGateSpec, signal?: AbortSignal): Promise<HttpObservation> {
  const started = performance.now();
  const timeout = AbortSignal.timeout(gate.requestTimeoutMs);
  const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
  try {
    const response = await fetch(gate.url, {
      method: gate.method,
      headers: gate.headers,
      signal: combined,
      redirect: 'manual',
    });
    const body = await response.text();
    const latencyMs = Math.round(performance.now() - started);
    const problems: string[] = [];
    if (!gate.status.includes(response.status))
      problems.push(`status ${response.status}, expected ${gate.status.join(' or ')}`);
    if (gate.body !== undefined && !body.includes(gate.body)) problems.push(`body lacks "${gate.body}"`);
    if (gate.bodyPattern !== undefined && !new RegExp(gate.bodyPattern).test(body)) {
      problems.push(`body does not match /${gate.bodyPattern}/`);
    }
    if (gate.latencyMs !== undefined && latencyMs > gate.latencyMs) {
      problems.push(`took ${latencyMs} ms, limit ${gate.latencyMs} ms`);
    }
    return {
      ok: problems.length === 0,
      text: problems.length === 0 ? `${response.status} in ${latencyMs} ms` : problems.join(', '),
      latencyMs,
    };
  } catch (error) {
    const latencyMs = Math.round(performance.now() - started);
    if (signal?.aborted) throw signal.reason;
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const reason = timeout.aborted
      ? `no answer within ${gate.requestTimeoutMs} ms`
      : (cause?.code ?? cause?.message ?? (error as Error).message);
    return { ok: false, text: `request failed: ${reason}`, latencyMs };
  }
}

/**
 * Runs an HTTP gate: requests `url` every `interval` until `successes` consecutive responses pass (status, body,
 * latency) or the deadline passes. A failure resets the count.
 */
export async function runHttpGate(gate: HttpGateSpec, options: GateRunOptions): Promise<GateResult> {
  const started = Date.now();
  const observations = new Observations();
  let streak = 0;
  let attempts = 0;
  let slowest = 0;
  for (;;) {
    options.signal?.throwIfAborted();
    attempts++;
    const seen = await probeHttp(gate, options.signal);
    observations.add(seen.text);
    if (seen.ok) {
      streak++;
      slowest = Math.max(slowest, seen.latencyMs);
    } else {
      streak = 0;
      slowest = 0;
    }
    options.progress?.(
      `${gate.name}: ${streak}/${gate.successes} consecutive successes (last: ${seen.text})`,
    );
    if (streak >= gate.successes) {
      return {
        kind: 'http',
        name: gate.name,
        outcome: 'passed',
        passed: true,
        detail: `${streak}/${gate.successes} consecutive successes, slowest ${slowest} ms`,
        durationMs: Date.now() - started,
        attempts,
        observations: observations.items,
      };
    }
    if (Date.now() + gate.intervalMs > options.deadline) {
      return {
        kind: 'http',
        name: gate.name,
        outcome: 'failed',
        passed: false,
        detail: `${streak}/${gate.successes} consecutive successes when the budget ran out; last: ${observations.last()}`,
        durationMs: Date.now() - started,
        attempts,
        observations: observations.items,
      };
    }
    await sleep(gate.intervalMs, options.signal);
  }
}
