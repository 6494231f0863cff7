import { PatchStrategy, setHeaderOptions, type V1Deployment, type V1Pod } from '@kubernetes/client-node';
import { runGates } from '../health/run.ts';
import type { GateSpec } from '../health/spec.ts';
import { isNotFound, kubeError } from '../kube/errors.ts';
import { holderIdentity, sameRun } from '../kube/lock.ts';
import { sleep, withRetry } from '../kube/retry.ts';
import { deploymentSource, podSource, watchUntil } from '../kube/watch.ts';
import {
  activeRevision,
  type Color,
  otherColor,
  previousRevision,
  type ReleaseRecord,
  type ReleaseRevision,
  recordName,
  updateRevision,
} from '../release/record.ts';
import type { RecordKey } from '../release/store.ts';
import { describeError, GreenlightError } from '../runtime/errors.ts';
import { Progress } from '../runtime/host.ts';
import {
  censusOf,
  imageOf,
  markPromoted,
  type ReleaseOutcome,
  type ReleaseTarget,
  type RunContext,
  retireColor,
  withReleaseLock,
} from './promote.ts';
import { noteSwitch, readSettledRecord, recordSwitchOutcome, settleAfterFailure } from './settle.ts';
import {
  activeServiceName,
  colorServiceName,
  countServingPods,
  flipTo,
  formatCensus,
  isServingPod,
  podSelector,
  type SwitchContext,
} from './switch.ts';
import { assertServiceRoute } from './traffic.ts';

/** The Deployment of a colour: `<app>-<color>`. */
export function colorDeployment(app: string, color: Color): string {
  return `${app}-${color}`;
}

/** Reads a colour's Deployment; undefined when it does not exist. */
export async function readColorDeployment(
  context: SwitchContext,
  app: string,
  color: Color,
): Promise<V1Deployment | undefined> {
  const { kube, namespace } = context;
  const name = colorDeployment(app, color);
  try {
    return await withRetry(() => kube.apps.readNamespacedDeployment({ name, namespace }), {
      signal: context.signal,
    });
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw kubeError(error, {
      what: `read the ${color} Deployment`,
      object: { kind: 'Deployment', name, namespace },
      server: kube.server,
    });
  }
}

/** Sets a colour's replica count through the scale subresource (the pod template is never touched). */
export async function scaleColor(
  context: SwitchContext,
  app: string,
  color: Color,
  replicas: number,
): Promise<void> {
  const { kube, namespace } = context;
  const name = colorDeployment(app, color);
  try {
    await withRetry(
      () =>
        kube.apps.patchNamespacedDeploymentScale(
          { name, namespace, body: { spec: { replicas } } },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        ),
      { signal: context.signal },
    );
  } catch (error) {
    throw kubeError(error, {
      what: `scale the ${color} colour to ${replicas}`,
      object: { kind: 'Deployment', name, namespace },
      server: kube.server,
    });
  }
  context.host.info(`Deployment ${name} scaled to ${replicas}`);
}

/** Why a colour's pods are not ready, in one line: waiting reasons, restarts, not-ready counts. */
export function podTrouble(pods: readonly V1Pod[]): string {
  const reasons = new Map<string, number>();
  let notReady = 0;
  for (const pod of pods) {
    if (!isServingPod(pod)) notReady++;
    for (const status of [
      ...(pod.status?.initContainerStatuses ?? []),
      ...(pod.status?.containerStatuses ?? []),
    ]) {
      const waiting = status.state?.waiting?.reason;
      const terminated = status.lastState?.terminated?.reason;
      const reason =
        waiting ?? (status.restartCount > 0 && terminated ? `restarted (${terminated})` : undefined);
      if (reason)
        reasons.set(`${status.name}: ${reason}`, (reasons.get(`${status.name}: ${reason}`) ?? 0) + 1);
    }
    if (pod.status?.phase === 'Pending' && !pod.spec?.nodeName) {
      const unschedulable = pod.status.conditions?.find(
        (c) => c.type === 'PodScheduled' && c.status === 'False',
      );
      if (unschedulable?.message) reasons.set(`unschedulable: ${unschedulable.message}`, 1);
    }
  }
  const parts = [`${pods.length - notReady}/${pods.length} pods ready`];
  for (const [reason, count] of reasons) parts.push(count > 1 ? `${reason} (${count} pods)` : reason);
  return parts.join('; ');
}

/**
 * Waits, by watch, until the colour's Deployment has rolled out `replicas` ready pods of its current template.
 * Fails fast with the pods' waiting reasons when they crash-loop or cannot pull their image.
 */
export async function waitForColorReady(
  context: SwitchContext,
  app: string,
  color: Color,
  replicas: number,
): Promise<void> {
  const { kube, namespace } = context;
  const name = colorDeployment(app, color);
  const progress = new Progress(context.host, 5_000);
  let last = 'nothing observed yet';
  // Two watch streams (the Deployment and its pods) can lag behind each other: right after a quick scale down and
  // up, one can still show the old pods Ready while the other already shows the new generation. What the watch
  // saw is therefore confirmed by a fresh list of the pods; until it holds, watching starts over.
  for (;;) {
    await watchReady();
    const confirmed = await countServingPods(context, app, color);
    if (confirmed >= replicas) return;
    last = `${confirmed}/${replicas} pods Ready on a fresh list`;
    progress.update(`Deployment ${name}: ${last}`);
    // A short pause before watching again, so a lagging stream cannot turn this into a busy loop.
    await sleep(250, context.signal);
  }

  function watchReady() {
    return watchUntil(
      kube,
      [deploymentSource(kube, namespace, name), podSource(kube, namespace, podSelector(app, color))] as const,
      ([deployments, pods]) => {
        const deployment = deployments[0];
        if (!deployment) {
          last = 'the Deployment is gone';
          return undefined;
        }
        const status = deployment.status ?? {};
        const generationSeen = (status.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 0);
        const ready = status.readyReplicas ?? 0;
        const updated = status.updatedReplicas ?? 0;
        last = `${ready}/${replicas} ready, ${updated} updated; ${podTrouble(pods.filter((p) => !p.metadata?.deletionTimestamp))}`;
        const fatal = pods
          .flatMap((p) => p.status?.containerStatuses ?? [])
          .map((s) => s.state?.waiting?.reason)
          .find((r) => r === 'CrashLoopBackOff' || r === 'ImagePullBackOff' || r === 'ErrImagePull');
        if (fatal) {
          throw new GreenlightError({
            what: `scale up the ${color} colour`,
            object: { kind: 'Deployment', name, namespace },
            reason: `its pods cannot become ready: ${podTrouble(pods)}`,
            hint: `kubectl -n ${namespace} describe pods -l ${podSelector(app, color)} shows the events`,
          });
        }
        // The Deployment's status can claim readiness for a moment while pods of an earlier scale-down are still
        // being deleted; the pods themselves (Ready, not terminating) are the proof.
        const serving = pods.filter(isServingPod).length;
        if (generationSeen && ready >= replicas && updated >= replicas && serving >= replicas) return true;
        progress.update(`Deployment ${name}: ${last}`);
        return undefined;
      },
      {
        deadline: context.deadline,
        signal: context.signal,
        what: `rollout of ${name}`,
        onTimeout: () =>
          new GreenlightError({
            what: `wait for the ${color} colour to be ready`,
            object: { kind: 'Deployment', name, namespace },
            reason: `not ready at the deadline: ${last}`,
            hint: `kubectl -n ${namespace} describe pods -l ${podSelector(app, color)} shows why`,
          }),
      },
    );
  }
}

/**
 * Waits, by watch, until a colour scaled to zero has settled there: its controller saw the change and no pod of
 * it is left that is not being deleted. Scaling up again before that races the ReplicaSet controller, which can
 * still act on the old zero and delete pods that already looked Ready.
 */
export async function waitForScaledDown(context: SwitchContext, app: string, color: Color): Promise<void> {
  const { kube, namespace } = context;
  const name = colorDeployment(app, color);
  let last = 'nothing observed yet';
  await watchUntil(
    kube,
    [deploymentSource(kube, namespace, name), podSource(kube, namespace, podSelector(app, color))] as const,
    ([deployments, pods]) => {
      const deployment = deployments[0];
      if (!deployment) return true;
      const seen = (deployment.status?.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 0);
      const remaining = pods.filter((p) => !p.metadata?.deletionTimestamp).length;
      last = `${remaining} pods not yet being deleted, ${deployment.status?.replicas ?? 0} replicas in status`;
      return seen && remaining === 0 && (deployment.status?.replicas ?? 0) === 0 ? true : undefined;
    },
    {
      deadline: context.deadline,
      signal: context.signal,
      what: `scale-down of ${name}`,
      onTimeout: () =>
        new GreenlightError({
          what: `wait for the ${color} colour to scale down`,
          object: { kind: 'Deployment', name, namespace },
          reason: `still ${last} at the deadline`,
          hint: `kubectl -n ${namespace} get pods -l ${podSelector(app, color)} shows what is left`,
        }),
    },
  );
}

/** The digests a Deployment's containers run (`sha256:...`), read from their image references. */
export function deploymentDigests(deployment: V1Deployment): string[] {
  return (deployment.spec?.template.spec?.containers ?? [])
    .map((c) => /@(sha256:[0-9a-f]{64})$/.exec(c.image ?? '')?.[1])
    .filter((d): d is string => d !== undefined);
}

/** True when the Deployment still runs the images the revision recorded (so it is that revision's workload). */
export function runsRevision(deployment: V1Deployment, revision: ReleaseRevision): boolean {
  const running = new Set((deployment.spec?.template.spec?.containers ?? []).map((c) => c.image ?? ''));
  const digests = new Set(deploymentDigests(deployment));
  return revision.images.every((image) =>
    image.digest ? digests.has(image.digest) : running.has(image.reference),
  );
}

/** What a rollback does, decided from the record alone. */
export type RollbackDecision =
  | { kind: 'rollback'; from: ReleaseRevision; to: ReleaseRevision }
  | { kind: 'refuse'; reason: string; hint: string };

/**
 * Decides a rollback from the record: flip from the active revision back to the one kept as previous. Refuses
 * when there is nothing live, nothing kept, or when a newer candidate has been deployed on the previous colour
 * (its workload was replaced, so there is nothing to flip back to).
 */
export function decideRollback(record: ReleaseRecord): RollbackDecision {
  const active = [...record.revisions].reverse().find((r) => r.status === 'active');
  if (!active) {
    return {
      kind: 'refuse',
      reason: `no revision of ${record.app} is active in ${record.environment}`,
      hint: 'there is nothing to roll back from; deploy and promote first',
    };
  }
  const previous = previousRevision(record);
  if (!previous) {
    return {
      kind: 'refuse',
      reason: `revision ${active.revision} is active and no earlier revision is kept for rollback`,
      hint: 'deploy the release you want with deploy-bluegreen, then promote it',
    };
  }
  const replacedBy = [...record.revisions]
    .reverse()
    .find((r) => r.status === 'candidate' && r.color === previous.color && r.revision > previous.revision);
  if (replacedBy || previous.color === active.color) {
    return {
      kind: 'refuse',
      reason: `the ${previous.color} colour now holds revision ${replacedBy?.revision ?? active.revision}, so revision ${previous.revision}'s workload is gone`,
      hint: `redeploy revision ${previous.revision}'s image digest with deploy-bluegreen, or abort the candidate first`,
    };
  }
  return { kind: 'rollback', from: active, to: previous };
}

export interface RollbackOptions extends ReleaseTarget, RunContext {
  route: 'service' | 'ingress';
  timeoutMs: number;
  gates: readonly GateSpec[];
  prometheusUrl?: string;
  scaleDownDelayMs: number;
  keepPrevious: boolean;
}

/**
 * The record once `from` is rolled back to `to` by `holder`: `to` turns active again (noting who rolled back),
 * `from` is kept as previous with the reason.
 */
export function markRolledBack(
  record: ReleaseRecord,
  from: number,
  to: number,
  reason: string,
  holder?: string,
  now: Date = new Date(),
): ReleaseRecord {
  const active = updateRevision(markPromoted(record, to, now), to, { rolledBackBy: holder }, now);
  return updateRevision(active, from, { reason }, now);
}

/**
 * Rolls back to the revision kept as previous: under the lock, scales its colour up first when it was scaled
 * down (to the replicas it ran with) and waits for it to be ready and pass its gates, then flips traffic to it and
 * waits until the active Service serves only it. The rolled-back revision is kept as previous, then scaled down
 * after the delay (or kept with keep-previous).
 */
export async function rollbackRelease(options: RollbackOptions): Promise<ReleaseOutcome> {
  const { kube, app, namespace, environment, host, clock } = options;
  const key: RecordKey = { namespace, app, environment };
  return withReleaseLock(options, options, async (signal) => {
    const context: SwitchContext = {
      kube,
      namespace,
      host,
      deadline: Date.now() + options.timeoutMs,
      signal,
    };
    const { record } = await readSettledRecord(context, key);
    const me = holderIdentity(options.env);
    const done = activeRevision(record);
    if (done?.rolledBackBy && (done.rolledBackBy === me || sameRun(me, done.rolledBackBy))) {
      // A re-run of a workflow run whose rollback went through (recorded, or settled from its note): rolling back
      // again would flip forward to the release it rolled back from.
      const message = `this workflow run already rolled back to revision ${done.revision} on ${done.color}; nothing more to do`;
      host.info(message);
      return {
        action: 'rollback',
        activeColor: done.color,
        previousColor: otherColor(done.color),
        revision: done.revision,
        image: imageOf(done),
        rolledBack: true,
        message,
      };
    }
    if (options.route === 'service') await assertServiceRoute(context, app);
    const decision = decideRollback(record);
    if (decision.kind === 'refuse') {
      throw new GreenlightError({
        what: 'roll back',
        object: { kind: 'ConfigMap', name: recordName(app, environment), namespace },
        reason: decision.reason,
        hint: decision.hint,
      });
    }
    const { from, to } = decision;
    const ref = { kind: 'Deployment', name: colorDeployment(app, to.color), namespace };
    const tracker = await options.github?.(`${app} rollback to revision ${to.revision} in ${environment}`, {
      app,
      revision: String(to.revision),
      color: to.color,
      image: imageOf(to),
    });
    await tracker?.report('in_progress', `rolling back to revision ${to.revision} on ${to.color}`);
    let noted = false;
    try {
      const deployment = await readColorDeployment(context, app, to.color);
      if (!deployment) {
        throw new GreenlightError({
          what: 'roll back',
          object: ref,
          reason: `revision ${to.revision}'s Deployment is gone`,
          hint: `redeploy revision ${to.revision}'s image digest (${imageOf(to)}) with deploy-bluegreen`,
        });
      }
      if (!runsRevision(deployment, to)) {
        throw new GreenlightError({
          what: 'roll back',
          object: ref,
          reason: `it no longer runs revision ${to.revision}'s images (${imageOf(to)})`,
          hint: `redeploy revision ${to.revision}'s image digest with deploy-bluegreen`,
        });
      }
      let replicas = deployment.spec?.replicas ?? 0;
      if (replicas === 0) {
        const live = await readColorDeployment(context, app, from.color);
        replicas = to.replicas ?? live?.spec?.replicas ?? 1;
        host.info(`${ref.name} was scaled down: scaling it to ${replicas} before the flip`);
        await clock.run(`settle ${to.color} at zero`, () => waitForScaledDown(context, app, to.color));
        await clock.run(`scale up ${to.color}`, () => scaleColor(context, app, to.color, replicas));
      }
      await clock.run(`wait for ${to.color}`, () => waitForColorReady(context, app, to.color, replicas));
      const colorService = colorServiceName(app, to.color);
      const services = await withRetry(() => kube.core.listNamespacedService({ namespace }), { signal });
      const report = await clock.run('health gates', () =>
        runGates(
          options.gates,
          {
            kube,
            namespace,
            services: services.items.some((s) => s.metadata?.name === colorService) ? [colorService] : [],
            podSelector: podSelector(app, to.color),
            replicas,
            placeholders: {
              app,
              color: to.color,
              namespace,
              environment,
              revision: String(to.revision),
            },
            prometheusUrl: options.prometheusUrl,
          },
          { deadline: context.deadline, signal, progress: (text) => host.info(text) },
        ),
      );
      if (!report.passed) {
        const failed = report.results.find((r) => r.outcome === 'failed');
        throw new GreenlightError({
          what: 'roll back',
          object: ref,
          reason: `revision ${to.revision} is not healthy: gate "${failed?.name}" failed: ${failed?.detail}`,
          hint: 'traffic stays where it is; fix the older release or deploy a new one',
        });
      }
      await noteSwitch(context, key, {
        action: 'rollback',
        revision: to.revision,
        color: to.color,
        from: from.revision,
        route: options.route,
        holder: me,
      });
      noted = true;
      await clock.run(`switch traffic to ${to.color}`, () =>
        flipTo(context, { app, route: options.route, target: to.color }),
      );
    } catch (error) {
      if (noted) await settleAfterFailure(context, key);
      await tracker?.report('failure', describeError(error));
      throw error;
    }
    const census = await censusOf(
      context,
      app,
      options.route === 'service' ? activeServiceName(app) : colorServiceName(app, to.color),
    );
    host.info(`Traffic is on ${to.color}: ${formatCensus(census)}`);
    const reason = `rolled back to revision ${to.revision} by ${me}`;
    await clock.run('record the rollback', () =>
      recordSwitchOutcome(context, key, (r) => markRolledBack(r, from.revision, to.revision, reason, me)),
    );
    await tracker?.report(
      'success',
      `revision ${to.revision} is live again on ${to.color}`,
      options.environmentUrl,
    );
    await retireColor(context, { ...options, color: from.color });
    return {
      action: 'rollback',
      activeColor: to.color,
      previousColor: from.color,
      revision: to.revision,
      image: imageOf(to),
      rolledBack: true,
      message: `rolled back from revision ${from.revision} (${from.color}) to revision ${to.revision} (${to.color})`,
      census,
    };
  });
}
