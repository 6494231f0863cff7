import type { CoreV1Event, V1Deployment, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { GreenlightError, type ObjectRef } from '../runtime/errors.ts';
import type { Kube } from './client.ts';
import { kubeError } from './errors.ts';
import { deploymentSource, podSource, replicaSetSource, timeOf, watchUntil } from './watch.ts';

/** Container waiting reasons that will not fix themselves: the rollout fails at once. */
export const FATAL_WAITING_REASONS = new Set([
  'ImagePullBackOff',
  'ErrImagePull',
  'InvalidImageName',
  'ErrImageNeverPull',
  'CrashLoopBackOff',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
]);

/** Where a rollout stands, from the Deployment's status. */
export interface RolloutStatus {
  desired: number;
  updated: number;
  ready: number;
  available: number;
  /** All pods, old ones included. */
  total: number;
  /** True when the controller has seen the latest spec. */
  observed: boolean;
}

/** Reads a Deployment's rollout status. */
export function rolloutStatus(deployment: V1Deployment): RolloutStatus {
  const status = deployment.status ?? {};
  return {
    desired: deployment.spec?.replicas ?? 1,
    updated: status.updatedReplicas ?? 0,
    ready: status.readyReplicas ?? 0,
    available: status.availableReplicas ?? 0,
    total: status.replicas ?? 0,
    observed: (status.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 0),
  };
}

/** True when the rollout is complete: observed, and updated = ready = available = total = desired. */
export function rolloutComplete(s: RolloutStatus): boolean {
  return (
    s.observed &&
    s.updated === s.desired &&
    s.ready === s.desired &&
    s.available === s.desired &&
    s.total === s.desired
  );
}

/** A pod problem that fails the rollout at once. */
export interface PodProblem {
  pod: string;
  container?: string;
  reason: string;
  message: string;
}

/** Finds a fatal problem in a pod: a container stuck on a fatal waiting reason, or the pod unschedulable. */
export function podProblem(pod: V1Pod): PodProblem | undefined {
  const name = pod.metadata?.name ?? '';
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  for (const status of statuses) {
    const waiting = status.state?.waiting;
    if (waiting?.reason && FATAL_WAITING_REASONS.has(waiting.reason)) {
      const restarts = status.restartCount
        ? ` after ${status.restartCount} restart${status.restartCount === 1 ? '' : 's'}`
        : '';
      return {
        pod: name,
        container: status.name,
        reason: waiting.reason,
        message: `${waiting.message ?? waiting.reason}${restarts}`,
      };
    }
  }
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
    return { pod: name, reason: 'Unschedulable', message: scheduled.message ?? 'no node fits the pod' };
  }
  return undefined;
}

/** The pods of the Deployment's newest ReplicaSet (by revision), so old pods being replaced do not count. */
export function newestPods(
  deployment: V1Deployment,
  replicaSets: readonly V1ReplicaSet[],
  pods: readonly V1Pod[],
): V1Pod[] {
  const revision = deployment.metadata?.annotations?.['deployment.kubernetes.io/revision'];
  const uid = deployment.metadata?.uid;
  const newest = replicaSets.find(
    (rs) =>
      rs.metadata?.annotations?.['deployment.kubernetes.io/revision'] === revision &&
      (rs.metadata?.ownerReferences ?? []).some((o) => o.uid === uid),
  );
  const hash = newest?.metadata?.labels?.['pod-template-hash'];
  if (!hash) return [];
  return pods.filter((p) => p.metadata?.labels?.['pod-template-hash'] === hash);
}

export interface RolloutWaitOptions {
  namespace: string;
  /** The Deployment. */
  name: string;
  /** Label selector of its pods. */
  selector: string;
  /** A short label for progress lines: `green`. */
  label: string;
  deadline: number;
  signal?: AbortSignal;
  progress?: (text: string) => void;
}

class RolloutFailure extends Error {
  readonly problem: PodProblem | { reason: string; message: string; pod?: undefined };
  constructor(problem: RolloutFailure['problem']) {
    super(problem.message);
    this.problem = problem;
  }
}

/**
 * Waits by watch until the Deployment's rollout is complete (observedGeneration caught up; updated = ready =
 * available = desired, no old pods left). Fails fast on ImagePullBackOff, ErrImagePull, CrashLoopBackOff,
 * Unschedulable, a ReplicaSet failure or ProgressDeadlineExceeded, quoting the container's waiting reason and the
 * pod's last events; at the deadline says how far it got and why the pods are not ready.
 */
export async function waitForRollout(kube: Kube, options: RolloutWaitOptions): Promise<RolloutStatus> {
  const { namespace, name } = options;
  const ref: ObjectRef = { kind: 'Deployment', name, namespace };
  let last: { status?: RolloutStatus; pods: V1Pod[] } = { pods: [] };
  const timedOut = new Error('timed out');
  let refused: string | undefined;
  // The stall condition as the wait first saw it, if any: it belongs to an earlier rollout (the controller keeps
  // it until pods make progress again, even after it observed the new generation). Only a stall the controller
  // reports afresh during this wait, with another update time, fails the rollout.
  let earlierStall: string | undefined | null = null;
  try {
    return await watchUntil(
      kube,
      [
        deploymentSource(kube, namespace, name),
        replicaSetSource(kube, namespace, options.selector),
        podSource(kube, namespace, options.selector),
      ] as const,
      ([deployments, replicaSets, pods]) => {
        const deployment = deployments[0];
        if (!deployment) return undefined;
        const stalled = deployment.status?.conditions?.find(
          (c) => c.type === 'Progressing' && c.status === 'False' && c.reason === 'ProgressDeadlineExceeded',
        );
        const stalledAt = stalled ? String(timeOf(stalled.lastUpdateTime) ?? '') : undefined;
        if (earlierStall === null) earlierStall = stalledAt;
        const status = rolloutStatus(deployment);
        if (!status.observed) {
          // Until the controller has seen the new template, the revision annotation, the conditions and the
          // "newest" ReplicaSet are still those of the rollout before (say a failed one, whose pods are going).
          last = { status, pods: [] };
          options.progress?.(
            `${options.label} waiting for the Deployment controller to see the new template`,
          );
          return undefined;
        }
        const current = newestPods(deployment, replicaSets, pods);
        last = { status, pods: current };
        if (stalled && stalledAt !== earlierStall) {
          throw new RolloutFailure({
            reason: 'ProgressDeadlineExceeded',
            message: stalled.message ?? 'no progress',
          });
        }
        for (const rs of replicaSets) {
          const failure = rs.status?.conditions?.find(
            (c) => c.type === 'ReplicaFailure' && c.status === 'True',
          );
          if (failure && current.length < status.desired) {
            throw new RolloutFailure({
              reason: failure.reason ?? 'ReplicaFailure',
              message: `ReplicaSet ${rs.metadata?.name}: ${failure.message ?? 'cannot create pods'}`,
            });
          }
        }
        for (const pod of current) {
          const problem = podProblem(pod);
          if (problem) throw new RolloutFailure(problem);
        }
        const readyNew = current.filter((p) =>
          (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
        ).length;
        const old = Math.max(0, status.total - status.updated);
        options.progress?.(
          `${options.label} ${readyNew}/${status.desired} ready${old > 0 ? `, ${old} old pods going` : ''}`,
        );
        return rolloutComplete(status) ? status : undefined;
      },
      {
        deadline: options.deadline,
        signal: options.signal,
        what: `the rollout of ${name}`,
        onTimeout: (refusals) => {
          refused = refusals;
          return timedOut;
        },
      },
    );
  } catch (error) {
    if (error instanceof RolloutFailure) {
      const { problem } = error;
      const events = problem.pod
        ? await lastEvents(kube, namespace, problem.pod)
        : await lastEvents(kube, namespace, name);
      const where = problem.pod
        ? `pod ${problem.pod}${'container' in problem && problem.container ? ` container ${problem.container}` : ''}: `
        : '';
      throw new GreenlightError({
        what: 'wait for rollout',
        object: ref,
        reason: `${where}${problem.reason}: ${problem.message}${formatEvents(events)}`,
        hint: hintFor(problem.reason),
        cause: error,
      });
    }
    if (error !== timedOut) throw error;
    const s = last.status;
    const seen = s
      ? `${s.ready}/${s.desired} ready, ${s.updated} updated, ${s.available} available`
      : 'the Deployment was never seen';
    if (s && !s.observed && !refused) {
      throw new GreenlightError({
        what: 'wait for rollout',
        object: ref,
        reason: 'the Deployment controller did not pick up the new pod template before the timeout ran out',
        hint: 'check that kube-controller-manager runs and is healthy, then re-run',
      });
    }
    if (refused) {
      throw new GreenlightError({
        what: 'wait for rollout',
        object: ref,
        reason: `${seen} when the timeout ran out: ${refused}`,
        hint: 'the API server, or a proxy or load balancer in front of it, kept refusing: check its health and load, then re-run',
      });
    }
    const stuck = last.pods.find(
      (p) => !(p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
    );
    const why = stuck ? await notReadyReason(kube, namespace, stuck) : '';
    throw new GreenlightError({
      what: 'wait for rollout',
      object: ref,
      reason: `${seen} when the timeout ran out${why}`,
      hint: 'the pods never turned Ready: check the readiness probe and the app logs, or raise `timeout` for slow starters',
    });
  }
}

function hintFor(reason: string): string {
  if (reason === 'ImagePullBackOff' || reason === 'ErrImagePull' || reason === 'InvalidImageName') {
    return 'check that the image exists in the registry and that the pods can pull it (imagePullSecrets, registry host and port)';
  }
  if (reason === 'CrashLoopBackOff' || reason === 'RunContainerError' || reason === 'CreateContainerError') {
    return 'the container exits after it starts: read its logs (kubectl logs --previous) and check its command, config and memory limit';
  }
  if (reason === 'CreateContainerConfigError')
    return 'a ConfigMap, Secret or key the pod references is missing';
  if (reason === 'Unschedulable')
    return 'no node can take the pod: check resource requests, node selectors, taints and quotas';
  if (reason === 'ProgressDeadlineExceeded')
    return 'the rollout made no progress within progressDeadlineSeconds; look at the pods and events';
  return 'look at the pods and events of the Deployment';
}

async function notReadyReason(kube: Kube, namespace: string, pod: V1Pod): Promise<string> {
  const name = pod.metadata?.name ?? '';
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
  const waiting = (pod.status?.containerStatuses ?? []).find((c) => c.state?.waiting)?.state?.waiting;
  const parts = [`; pod ${name} is ${pod.status?.phase ?? 'Pending'}`];
  if (waiting) parts.push(` (waiting: ${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''})`);
  else if (ready?.reason || ready?.message)
    parts.push(` (${[ready.reason, ready.message].filter(Boolean).join(': ')})`);
  return `${parts.join('')}${formatEvents(await lastEvents(kube, namespace, name))}`;
}

/** The last few events about an object, oldest first, as `Reason: message` (empty when they cannot be read). */
export async function lastEvents(kube: Kube, namespace: string, name: string, limit = 3): Promise<string[]> {
  let events: CoreV1Event[];
  try {
    const list = await kube.core.listNamespacedEvent({
      namespace,
      fieldSelector: `involvedObject.name=${name}`,
    });
    events = list.items;
  } catch (error) {
    const failure = kubeError(error, { what: 'read events', object: { kind: 'Event', name, namespace } });
    return [`(events could not be read: ${failure.reason})`];
  }
  const when = (e: CoreV1Event) =>
    timeOf((e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp) as Date | string | undefined) ??
    0;
  return events
    .sort((a, b) => when(a) - when(b))
    .slice(-limit)
    .map((e) => `${e.reason ?? e.type}: ${e.message ?? ''}${e.count && e.count > 1 ? ` (x${e.count})` : ''}`);
}

function formatEvents(events: string[]): string {
  return events.length === 0 ? '' : `; last events: ${events.join(' | ')}`;
}
