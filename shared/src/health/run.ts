import type { Kube } from '../kube/client.ts';
import { GreenlightError } from '../runtime/errors.ts';
import { runEndpointsGate } from './endpoints.ts';
import { runHttpGate } from './http.ts';
import { runPrometheusGate } from './prometheus.ts';
import type { GateResult } from './result.ts';
import { expandPlaceholders, type GateSpec } from './spec.ts';

/** What the gates check: the candidate, its Services, and where Prometheus is. */
export interface GateContext {
  kube: Kube;
  namespace: string;
  /** The preview Services of the candidate (checked by the endpoints gate by default). */
  services: readonly string[];
  /** Label selector of the candidate's pods. */
  podSelector: string;
  replicas: number;
  /** Values for `{{app}}`, `{{color}}`, `{{namespace}}`, `{{environment}}`, `{{revision}}` in URLs and queries. */
  placeholders: Record<string, string>;
  /** Default Prometheus URL (GREENLIGHT_PROMETHEUS_URL) for gates that name none. */
  prometheusUrl?: string;
}

export interface RunGatesOptions {
  /** Epoch milliseconds: the total timeout, which every gate's budget lives inside. */
  deadline: number;
  signal?: AbortSignal;
  progress?: (text: string) => void;
}

/** Every gate's result, and whether all passed. */
export interface GateReport {
  passed: boolean;
  results: GateResult[];
}

/**
 * Runs the gates one after another, each within its own budget and the total deadline, and stops at the first
 * failure (the rest are reported as skipped). Returns structured results; throws only for cancellation and for
 * errors of the cluster itself (a refused watch).
 */
export async function runGates(
  gates: readonly GateSpec[],
  context: GateContext,
  options: RunGatesOptions,
): Promise<GateReport> {
  const results: GateResult[] = [];
  let failed = false;
  for (const spec of gates) {
    if (failed || Date.now() >= options.deadline) {
      results.push({
        kind: spec.kind,
        name: spec.name,
        outcome: 'skipped',
        passed: false,
        detail: failed ? 'not run: an earlier gate failed' : 'not run: the total timeout ran out',
        durationMs: 0,
        attempts: 0,
        observations: [],
      });
      failed = true;
      continue;
    }
    const deadline =
      spec.budgetMs === undefined ? options.deadline : Math.min(options.deadline, Date.now() + spec.budgetMs);
    const run = { deadline, signal: options.signal, progress: options.progress };
    let result: GateResult;
    if (spec.kind === 'endpoints') {
      result = await runEndpointsGate(
        context.kube,
        spec.name,
        {
          namespace: context.namespace,
          services: spec.services ?? context.services,
          podSelector: context.podSelector,
          replicas: context.replicas,
        },
        run,
      );
    } else if (spec.kind === 'http') {
      result = await runHttpGate(
        {
          ...spec,
          url: expandPlaceholders(spec.url, context.placeholders),
          headers: Object.fromEntries(
            Object.entries(spec.headers).map(([k, v]) => [k, expandPlaceholders(v, context.placeholders)]),
          ),
        },
        run,
      );
    } else {
      const url = spec.url ?? context.prometheusUrl;
      if (!url) {
        throw new GreenlightError({
          what: `health gate "${spec.name}"`,
          reason: 'no Prometheus URL: the gate names none and GREENLIGHT_PROMETHEUS_URL is not set',
          hint: 'add `url: http://prometheus:9090` to the gate, or set GREENLIGHT_PROMETHEUS_URL in the job',
        });
      }
      result = await runPrometheusGate(
        { ...spec, query: expandPlaceholders(spec.query, context.placeholders) },
        url,
        run,
      );
    }
    results.push(result);
    if (!result.passed) failed = true;
  }
  return { passed: !failed, results };
}
