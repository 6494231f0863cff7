import type { V1Probe } from '@kubernetes/client-node';
import { isSlowStarter } from '../jvm.ts';
import { canonical, containerLabel, containersOf, defineRule, probeTiming, report } from './helpers.ts';

const PROBES = ['livenessProbe', 'readinessProbe', 'startupProbe'] as const;

export const probeRules = [
  defineRule({
    id: 'GL-PRB-001',
    family: 'probes',
    title: 'Readiness probe on pods behind a Service',
    severity: 'error',
    mode: 'both',
    why: 'Without a readiness probe a Service sends traffic to a pod the moment its process starts, and a blue-green switch cannot prove the new colour healthy.',
    fix: 'Add a readinessProbe that checks the app can serve (an HTTP health endpoint).',
    *check(context) {
      for (const { workload, entry, container } of containersOf(context, { skipCompleting: true })) {
        if (container.readinessProbe) continue;
        const services = context.servicesFor(workload);
        if (services.length === 0) continue;
        const names = services.map((service) => service.object.metadata?.name ?? '?').join(', ');
        yield report(
          workload.target,
          entry.path,
          `${containerLabel(entry)} has no readiness probe, yet Service ${names} sends it traffic`,
        );
      }
    },
  }),
  defineRule({
    id: 'GL-PRB-002',
    family: 'probes',
    title: 'Liveness probe without a readiness probe',
    severity: 'warning',
    mode: 'both',
    why: 'A liveness probe restarts a busy container instead of taking it out of rotation; without readiness, overload turns into restarts.',
    fix: 'Add a readinessProbe; keep liveness for real deadlocks only.',
    *check(context) {
      for (const { workload, entry, container } of containersOf(context, { skipCompleting: true })) {
        if (!container.livenessProbe || container.readinessProbe) continue;
        yield report(
          workload.target,
          [...entry.path, 'livenessProbe'],
          `${containerLabel(entry)} has a liveness probe but no readiness probe`,
        );
      }
    },
  }),
  defineRule({
    id: 'GL-PRB-003',
    family: 'probes',
    title: 'Liveness probe identical to the readiness probe',
    severity: 'warning',
    mode: 'both',
    why: 'When both probes are the same, a slow dependency makes the container unready and then kills it, turning a brownout into a restart storm.',
    fix: 'Make liveness cheaper and more tolerant than readiness: a separate endpoint, a longer period or a higher failure threshold.',
    *check(context) {
      for (const { workload, entry, container } of containersOf(context, { skipCompleting: true })) {
        if (!container.livenessProbe || !container.readinessProbe) continue;
        if (canonical(container.livenessProbe) !== canonical(container.readinessProbe)) continue;
        yield report(
          workload.target,
          [...entry.path, 'livenessProbe'],
          `${containerLabel(entry)} has the same liveness and readiness probe`,
        );
      }
    },
  }),
  defineRule({
    id: 'GL-PRB-004',
    family: 'probes',
    title: 'Liveness probe kills a slow starter',
    severity: 'error',
    mode: 'both',
    why: 'Brokers, search engines and JVMs can need many minutes to recover after a crash; a liveness probe that fires sooner kills them in a loop.',
    fix: 'Add a startupProbe whose failureThreshold x periodSeconds covers the worst recovery, or raise initialDelaySeconds to fit it.',
    *check(context) {
      const budget = context.config.settings.slowStartSeconds;
      for (const { workload, entry, container } of containersOf(context, { skipCompleting: true })) {
        const probe = container.livenessProbe;
        if (!probe || container.startupProbe || !isSlowStarter(container)) continue;
        const timing = probeTiming(probe);
        const grace = timing.initialDelaySeconds + timing.periodSeconds * timing.failureThreshold;
        if (grace >= budget) continue;
        yield report(
          workload.target,
          [...entry.path, 'livenessProbe'],
          `${containerLabel(entry)} (${container.image}) is a slow starter with no startup probe; its liveness probe kills it after ${grace}s, under the ${budget}s a recovery can take`,
        );
      }
    },
  }),
  defineRule({
    id: 'GL-PRB-005',
    family: 'probes',
    title: 'Probe timeout shorter than its period',
    severity: 'warning',
    mode: 'both',
    why: 'A probe whose timeout reaches its period overlaps the next check and counts one slow answer as several failures.',
    fix: 'Keep timeoutSeconds below periodSeconds (for example a 3s timeout every 10s).',
    *check(context) {
      for (const { workload, entry, container } of containersOf(context, { skipCompleting: true })) {
        for (const name of PROBES) {
          const probe: V1Probe | undefined = container[name];
          if (!probe) continue;
          const timing = probeTiming(probe);
          if (timing.timeoutSeconds < timing.periodSeconds) continue;
          yield report(
            workload.target,
            [...entry.path, name, probe.timeoutSeconds === undefined ? 'periodSeconds' : 'timeoutSeconds'],
            `${containerLabel(entry)} ${name} times out after ${timing.timeoutSeconds}s but runs every ${timing.periodSeconds}s`,
          );
        }
      }
    },
  }),
];
