import type { V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import type { AuditContext } from '../context.ts';
import type { Workload } from '../workloads.ts';
import { defineRule, report } from './helpers.ts';

const SERVING = ['Deployment', 'StatefulSet', 'ReplicaSet', 'ReplicationController'];

/** The smallest replica count the workload runs with: an autoscaler's minReplicas when one targets it. */
function minimumReplicas(context: AuditContext, workload: Workload): number | undefined {
  if (workload.replicas === undefined) return undefined;
  const autoscaler = context.ofKind('HorizontalPodAutoscaler').find((target) => {
    const hpa = target.object as V2HorizontalPodAutoscaler;
    return (
      hpa.spec?.scaleTargetRef?.kind === workload.kind &&
      hpa.spec.scaleTargetRef.name === workload.name &&
      (target.object.metadata?.namespace ?? '') === (workload.namespace ?? '')
    );
  });
  const min = (autoscaler?.object as V2HorizontalPodAutoscaler | undefined)?.spec?.minReplicas;
  return autoscaler ? (min ?? 1) : workload.replicas;
}

function* serving(context: AuditContext) {
  for (const workload of context.workloads) {
    if (!SERVING.includes(workload.kind)) continue;
    // ReplicaSets that a Deployment owns are audited through their Deployment.
    if ((workload.target.object.metadata?.ownerReferences?.length ?? 0) > 0) continue;
    const replicas = minimumReplicas(context, workload);
    if (replicas === undefined || replicas === 0) continue;
    yield { workload, replicas };
  }
}

export const availabilityRules = [
  defineRule({
    id: 'GL-AVL-001',
    family: 'availability',
    title: 'Single replica',
    severity: 'warning',
    mode: 'both',
    why: 'One replica means downtime on every node drain, eviction or crash.',
    fix: 'Run at least two replicas (or an autoscaler with minReplicas of 2 or more).',
    *check(context) {
      for (const { workload, replicas } of serving(context)) {
        if (replicas !== 1) continue;
        yield report(
          workload.target,
          ['spec', 'replicas'],
          `${workload.kind} ${workload.name} runs a single replica`,
        );
      }
    },
  }),
  defineRule({
    id: 'GL-AVL-002',
    family: 'availability',
    title: 'No PodDisruptionBudget',
    severity: 'warning',
    mode: 'both',
    why: 'Without a PodDisruptionBudget a node upgrade may evict every replica at once.',
    fix: 'Add a PodDisruptionBudget selecting the pods with minAvailable or maxUnavailable.',
    *check(context) {
      for (const { workload, replicas } of serving(context)) {
        if (replicas < 2 || context.disruptionBudgetsFor(workload).length > 0) continue;
        yield report(
          workload.target,
          ['spec', 'replicas'],
          `${workload.kind} ${workload.name} runs ${replicas} replicas and no PodDisruptionBudget selects them`,
        );
      }
    },
  }),
  defineRule({
    id: 'GL-AVL-003',
    family: 'availability',
    title: 'No anti-affinity or topology spread',
    severity: 'warning',
    mode: 'both',
    why: 'The scheduler may place all replicas on one node or zone, so one failure takes them all.',
    fix: 'Add topologySpreadConstraints (or a preferred podAntiAffinity) on kubernetes.io/hostname and the zone.',
    *check(context) {
      for (const { workload, replicas } of serving(context)) {
        if (replicas < 2) continue;
        const spec = workload.spec;
        const spread = (spec.topologySpreadConstraints?.length ?? 0) > 0;
        const anti = spec.affinity?.podAntiAffinity;
        const hasAnti =
          (anti?.requiredDuringSchedulingIgnoredDuringExecution?.length ?? 0) > 0 ||
          (anti?.preferredDuringSchedulingIgnoredDuringExecution?.length ?? 0) > 0;
        if (spread || hasAnti) continue;
        yield report(
          workload.target,
          workload.specPath,
          `${workload.kind} ${workload.name} runs ${replicas} replicas with no anti-affinity or topology spread`,
        );
      }
    },
  }),
];
