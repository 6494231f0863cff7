import type { V1Ingress, V1NetworkPolicy, V1Service } from '@kubernetes/client-node';
import { selectorMatches } from '../workloads.ts';
import { containerLabel, containersOf, defineRule, report } from './helpers.ts';

export const networkingRules = [
  defineRule({
    id: 'GL-NET-001',
    family: 'networking',
    title: 'hostPort',
    severity: 'warning',
    mode: 'both',
    why: 'A hostPort lets only one such pod run per node: rollouts and scale-ups stall on port conflicts.',
    fix: 'Remove hostPort and expose the port through a Service.',
    *check(context) {
      for (const { workload, entry, container } of containersOf(context, { init: true })) {
        for (const [index, port] of (container.ports ?? []).entries()) {
          if (!port.hostPort) continue;
          yield report(
            workload.target,
            [...entry.path, 'ports', index, 'hostPort'],
            `${containerLabel(entry)} binds host port ${port.hostPort}`,
          );
        }
      }
    },
  }),
  defineRule({
    id: 'GL-NET-002',
    family: 'networking',
    title: 'LoadBalancer Service or external IPs',
    severity: 'warning',
    mode: 'both',
    why: "Each LoadBalancer Service or external IP adds node-level NAT state; at scale the nodes' conntrack tables fill and drop connections.",
    fix: 'Route traffic through a shared Ingress or Gateway; keep Services ClusterIP.',
    *check(context) {
      for (const target of context.ofKind('Service')) {
        const spec = (target.object as V1Service).spec;
        const name = target.object.metadata?.name ?? '?';
        if (spec?.type === 'LoadBalancer') {
          yield report(target, ['spec', 'type'], `Service ${name} is of type LoadBalancer`);
        }
        if ((spec?.externalIPs?.length ?? 0) > 0) {
          yield report(
            target,
            ['spec', 'externalIPs'],
            `Service ${name} sets externalIPs ${spec?.externalIPs?.join(', ')}`,
          );
        }
      }
    },
  }),
  defineRule({
    id: 'GL-NET-003',
    family: 'networking',
    title: 'Wildcard Ingress host',
    severity: 'warning',
    mode: 'both',
    why: 'A wildcard host captures traffic meant for other apps and makes routing depend on rule order.',
    fix: 'List the exact host names the app serves.',
    *check(context) {
      for (const target of context.ofKind('Ingress')) {
        const rules = (target.object as V1Ingress).spec?.rules ?? [];
        for (const [index, rule] of rules.entries()) {
          if (!rule.host?.includes('*')) continue;
          yield report(
            target,
            ['spec', 'rules', index, 'host'],
            `Ingress ${target.object.metadata?.name ?? '?'} routes the wildcard host ${rule.host}`,
          );
        }
      }
    },
  }),
  defineRule({
    id: 'GL-NET-004',
    family: 'networking',
    title: 'No NetworkPolicy selects the pods',
    severity: 'notice',
    mode: 'both',
    why: 'Without a NetworkPolicy every pod in the cluster can reach these pods, so one compromised app reaches all.',
    fix: 'Add a NetworkPolicy (a namespace default-deny plus the allowed peers) that selects the pods.',
    *check(context) {
      const policies = context.ofKind('NetworkPolicy');
      for (const workload of context.workloads) {
        if (workload.runsToCompletion) continue;
        if ((workload.target.object.metadata?.ownerReferences?.length ?? 0) > 0) continue;
        const covered = policies.some(
          (policy) =>
            (policy.object.metadata?.namespace ?? '') === (workload.namespace ?? '') &&
            selectorMatches((policy.object as V1NetworkPolicy).spec?.podSelector ?? {}, workload.podLabels),
        );
        if (covered) continue;
        const where = workload.namespace ? ` in namespace ${workload.namespace}` : '';
        yield report(
          workload.target,
          workload.specPath.slice(0, -1),
          `no NetworkPolicy${where} selects the pods of ${workload.kind} ${workload.name}`,
        );
      }
    },
  }),
];
