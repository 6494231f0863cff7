import type { V1Container, V1Probe } from '@kubernetes/client-node';
import type { FieldPath } from '../../chart/types.ts';
import type { AuditContext } from '../context.ts';
import type { AuditObject, Report, Rule } from '../types.ts';
import type { Workload, WorkloadContainer } from '../workloads.ts';

/** A rule written as a plain object; `defineRule` only checks its shape at compile time. */
export function defineRule(rule: Rule): Rule {
  return rule;
}

/** A report on `target` at `path`. */
export function report(target: AuditObject, path: FieldPath, message: string): Report {
  return { target, path, message };
}

/** Every container of every workload, with its workload; init containers only when asked. */
export function* containersOf(
  context: AuditContext,
  options: { init?: boolean; skipCompleting?: boolean } = {},
): Generator<{ workload: Workload; entry: WorkloadContainer; container: V1Container }> {
  for (const workload of context.workloads) {
    if (options.skipCompleting && workload.runsToCompletion) continue;
    for (const entry of workload.containers) {
      if (entry.init && !options.init) continue;
      yield { workload, entry, container: entry.container };
    }
  }
}

/** How a container is named in messages: `container "web"` (or `init container "migrate"`). */
export function containerLabel(entry: WorkloadContainer): string {
  return `${entry.init ? 'init container' : 'container'} "${entry.container.name ?? '?'}"`;
}

/** Probe settings with Kubernetes' defaults filled in. */
export function probeTiming(probe: V1Probe) {
  return {
    initialDelaySeconds: probe.initialDelaySeconds ?? 0,
    periodSeconds: probe.periodSeconds ?? 10,
    timeoutSeconds: probe.timeoutSeconds ?? 1,
    failureThreshold: probe.failureThreshold ?? 3,
  };
}

/** A value with its object keys sorted, so two probes written in a different order compare equal. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(
          Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
      : inner,
  );
}
