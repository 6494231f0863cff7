import type { V1EndpointSlice, V1Pod } from '@kubernetes/client-node';
import type { Kube } from '../kube/client.ts';
import { endpointSliceSource, podSource, watchUntil } from '../kube/watch.ts';
import type { GateRunOptions } from './http.ts';
import type { GateResult } from './result.ts';

export interface EndpointsGateTarget {
  namespace: string;
  /** Services whose EndpointSlices must list exactly the candidate's ready pods. */
  services: readonly string[];
  /** Label selector of the candidate's pods (`greenlight.dev/app=api,greenlight.dev/color=green`). */
  podSelector: string;
  /** How many ready pods the candidate should have. */
  replicas: number;
}

/** True when a pod is Ready and not being deleted. */
export function isPodReady(pod: V1Pod): boolean {
  if (pod.metadata?.deletionTimestamp) return false;
  return (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** The pods a Service's EndpointSlices list as ready (endpoints whose `ready` is not false), by name. */
export function readyEndpointPods(slices: readonly V1EndpointSlice[]): Set<string> {
  const pods = new Set<string>();
  for (const slice of slices) {
    for (const endpoint of slice.endpoints ?? []) {
      if (endpoint.conditions?.ready === false) continue;
      if (endpoint.targetRef?.kind === 'Pod' && endpoint.targetRef.name) pods.add(endpoint.targetRef.name);
    }
  }
  return pods;
}

/** What differs between the endpoints and the ready pods, in words; empty when they agree. */
export function endpointDifference(endpoints: ReadonlySet<string>, ready: ReadonlySet<string>): string {
  const missing = [...ready].filter((p) => !endpoints.has(p));
  const extra = [...endpoints].filter((p) => !ready.has(p));
  const parts: string[] = [];
  if (missing.length > 0) parts.push(`missing ${missing.join(', ')}`);
  if (extra.length > 0)
    parts.push(`listing pods that are not the candidate's ready pods: ${extra.join(', ')}`);
  return parts.join('; ');
}

/**
 * Runs the endpoints gate: watches the candidate's pods and each Service's EndpointSlices until, for every
 * Service, the ready endpoints are exactly the candidate's ready pods and there are `replicas` of them.
 */
export async function runEndpointsGate(
  kube: Kube,
  name: string,
  target: EndpointsGateTarget,
  options: GateRunOptions,
): Promise<GateResult> {
  const started = Date.now();
  let attempts = 0;
  let last = 'nothing observed yet';
  const result = (passed: boolean, detail: string): GateResult => ({
    kind: 'endpoints',
    name,
    outcome: passed ? 'passed' : 'failed',
    passed,
    detail,
    durationMs: Date.now() - started,
    attempts,
    observations: [last],
  });
  if (target.services.length === 0) {
    return result(true, 'no Service selects the app (a worker): nothing to route');
  }
  const sources = [
    podSource(kube, target.namespace, target.podSelector),
    ...target.services.map((service) => endpointSliceSource(kube, target.namespace, service)),
  ];
  const timedOut = new Error('timed out');
  let refused: string | undefined;
  try {
    const detail = await watchUntil(
      kube,
      sources,
      (views) => {
        attempts++;
        const [pods, ...sliceLists] = views as unknown as [
          readonly V1Pod[],
          ...(readonly V1EndpointSlice[])[],
        ];
        const ready = new Set(pods.filter(isPodReady).map((p) => p.metadata?.name ?? ''));
        const problems: string[] = [];
        target.services.forEach((service, index) => {
          const endpoints = readyEndpointPods(sliceLists[index] ?? []);
          const difference = endpointDifference(endpoints, ready);
          if (difference) problems.push(`${service}: ${difference}`);
          else if (endpoints.size < target.replicas) {
            problems.push(`${service}: ${endpoints.size}/${target.replicas} ready endpoints`);
          }
        });
        last =
          problems.length === 0
            ? `${ready.size} ready endpoints on ${target.services.join(', ')}`
            : problems.join('; ');
        options.progress?.(`${name}: ${last}`);
        return problems.length === 0 ? last : undefined;
      },
      {
        deadline: options.deadline,
        signal: options.signal,
        what: name,
        onTimeout: (refusals) => {
          refused = refusals;
          return timedOut;
        },
      },
    );
    return result(true, detail);
  } catch (error) {
    if (error !== timedOut) throw error;
    return result(false, `when the budget ran out: ${last}${refused ? `; ${refused}` : ''}`);
  }
}
