import { PatchStrategy, setHeaderOptions, type V1Deployment, type V1Service } from '@kubernetes/client-node';
import { runEndpointsGate } from '../health/endpoints.ts';
import type { GateResult } from '../health/result.ts';
import { runGates } from '../health/run.ts';
import type { GateSpec } from '../health/spec.ts';
import { type ApplyResult, applyObject, refOf } from '../kube/apply.ts';
import type { Kube } from '../kube/client.ts';
import { isNotFound, kubeError } from '../kube/errors.ts';
import { acquireLock, type HeldLock, lockName } from '../kube/lock.ts';
import { withRetry } from '../kube/retry.ts';
import { waitForRollout } from '../kube/rollout.ts';
import {
  activeRevision,
  type Color,
  latestRevision,
  liveColor,
  nextRevisionNumber,
  otherColor,
  putRevision,
  type RecordedGate,
  type ReleaseRecord,
  type ReleaseRevision,
  updateRevision,
} from '../release/record.ts';
import { updateRecord } from '../release/store.ts';
import { describeError, GreenlightError } from '../runtime/errors.ts';
import { type Host, Progress } from '../runtime/host.ts';
import type { PhaseClock } from '../runtime/summary.ts';
import {
  COPY_OF_ANNOTATION,
  colorDeploymentName,
  type DeployPlan,
  type DeploySnapshot,
  planDeploy,
  type SourcedObject,
} from './plan.ts';
import {
  noteSwitch,
  readSettledRecord,
  recordSwitchOutcome,
  SETTLE_AFTER_CANCEL_MS,
  settleAfterFailure,
} from './settle.ts';
import { APP_LABEL, activeServiceName, COLOR_LABEL, type SwitchContext } from './switch.ts';
import { ingressRoutedColor, trafficColor } from './traffic.ts';

/** What to deploy, where, and how to judge it. */
export interface DeployOptions {
  app: string;
  namespace: string;
  environment: string;
  /** Rendered objects (a chart or manifests). */
  objects: readonly SourcedObject[];
  /** `name@digest` references pinned by exact repository. */
  images: readonly string[];
  gates: readonly GateSpec[];
  /** Total time for the lock wait, the rollout and every gate. */
  timeoutMs: number;
  /** Keep a failed candidate running for debugging instead of scaling it to zero. */
  keepFailed: boolean;
  /** The lock holder (see holderIdentity). */
  holder: string;
  lockTtlSeconds?: number;
  prometheusUrl?: string;
  /** What the revision records about its origin. */
  origin: {
    appVersion?: string;
    chart?: { name: string; version: string };
    gitSha?: string;
    runUrl?: string;
    actor?: string;
  };
  /**
   * Runs once the candidate is proven healthy and recorded, with the lock still held (promote: auto). Not called
   * on a first deploy, where the candidate becomes active at once.
   */
  promote?: (result: DeployResult, lock: HeldLock) => Promise<void>;
}

export interface DeployContext {
  host: Host;
  clock: PhaseClock;
  /** Cancellation from the runner. */
  signal: AbortSignal;
}

/** What a deploy did; filled in as it goes, so a failed deploy can still be summarised. */
export interface DeployResult {
  app: string;
  environment: string;
  namespace: string;
  color?: Color;
  previousColor?: Color;
  revision?: number;
  /** True when every gate passed. */
  ready: boolean;
  /** True when the candidate became active (a first deploy, an adoption, or promote: auto). */
  active: boolean;
  previewUrl: string;
  applied: ApplyResult[];
  gates: GateResult[];
  notes: string[];
  /** The revision as recorded. */
  release?: ReleaseRevision;
  failure?: string;
}

/** A fresh, empty result for `options`. */
export function emptyResult(options: Pick<DeployOptions, 'app' | 'environment' | 'namespace'>): DeployResult {
  return {
    app: options.app,
    environment: options.environment,
    namespace: options.namespace,
    ready: false,
    active: false,
    previewUrl: '',
    applied: [],
    gates: [],
    notes: [],
  };
}

/**
 * Puts a release on the idle colour and proves it healthy: takes the Lease lock, reads the record and the live
 * state, plans, applies the candidate with server-side apply, waits for the rollout by watch, runs the gates and
 * records the result. The live colour's workload and the active Service are never touched (on a first deploy or an
 * adoption the active Service is created or moved only after the gates pass). On failure or cancellation the
 * candidate is scaled to zero (unless keepFailed), the record says failed and why, and the error is rethrown.
 * `result` is filled in along the way.
 */
export async function deployBlueGreen(
  kube: Kube,
  options: DeployOptions,
  context: DeployContext,
  result: DeployResult = emptyResult(options),
): Promise<DeployResult> {
  const { app, namespace, environment } = options;
  const { host, clock } = context;
  const key = { namespace, app, environment };

  const lock = await clock.run('lock', async () => {
    const progress = new Progress(host);
    const held = await acquireLock(kube, {
      namespace,
      name: lockName(app, environment),
      holder: options.holder,
      ttlSeconds: options.lockTtlSeconds,
      waitMs: options.timeoutMs,
      signal: context.signal,
      onWait: (holder, expiresIn) =>
        progress.update(
          `waiting for the lock ${lockName(app, environment)} held by ${holder} (free in at most ${Math.ceil(expiresIn / 1000)} s)`,
        ),
      onTrouble: (message) => host.warning(message),
    });
    host.info(`holding the lock ${held.name} as ${held.holder}`);
    return held;
  });
  const signal = AbortSignal.any([context.signal, lock.lost]);
  // `timeout` bounds the rollout and the gates; waiting for another run's lock has its own bound of the same length.
  const deadline = Date.now() + options.timeoutMs;
  let plan: DeployPlan | undefined;
  let applied = false;
  // Reads and writes of the release record that settle switches (a left note, this run's activation).
  const recordContext: SwitchContext = { kube, namespace, host, deadline, signal };
  let noted = false;
  try {
    const state = await clock.run('read state', async () => {
      const { record } = await readSettledRecord(recordContext, key);
      return readState(recordContext, options, record);
    });
    result.color = state.candidate;
    result.previousColor = state.live;
    host.info(
      state.live
        ? `live colour: ${state.live}; deploying on ${state.candidate}`
        : state.snapshot.adopt
          ? `adopting Deployment ${state.snapshot.adopt.deployment}: deploying on ${state.candidate}`
          : `first deploy: deploying on ${state.candidate}`,
    );

    plan = await clock.run('plan', async () =>
      planDeploy({
        app,
        namespace,
        environment,
        candidate: state.candidate,
        live: state.live,
        objects: options.objects,
        images: options.images,
        snapshot: state.snapshot,
      }),
    );
    const thePlan = plan;
    const serving = activeRevision(state.record);
    if (serving && serving.color === state.live && serving.fingerprint === plan.fingerprint) {
      // A re-run of a release that is already live (a re-run workflow, or promote: auto done before).
      host.info(
        `nothing to deploy: revision ${serving.revision} on ${serving.color} already runs this release`,
      );
      result.color = serving.color;
      result.previousColor = state.live;
      result.revision = serving.revision;
      result.release = serving;
      result.ready = true;
      result.active = true;
      result.notes.push(
        `revision ${serving.revision} on ${serving.color} already runs this release; nothing was applied`,
      );
      for (const phase of ['apply', 'rollout', 'gates']) clock.skip(phase);
      return result;
    }
    result.notes.push(...plan.notes);
    for (const note of plan.notes) host.info(`note: ${note}`);
    result.previewUrl = previewUrl(options.gates, plan);

    // Record the candidate before touching anything, so a crash leaves a trace; a re-run of the same inputs on
    // the same colour reuses its revision.
    const record = await clock.run('record candidate', () =>
      updateRecord(kube, key, (current) => withCandidate(current, thePlan, options), signal),
    );
    const revision = latestRevision(record) as ReleaseRevision;
    result.revision = revision.revision;
    result.release = revision;

    if (state.staleCandidate) {
      await clock.run('replace idle workload', () =>
        deleteIdleDeployment(kube, namespace, state.staleCandidate as string, host),
      );
    }
    applied = true;
    await clock.run('apply', () =>
      host.group(`apply ${thePlan.candidate}`, async () => {
        const ordered: SourcedObject[] = [
          ...thePlan.configCopies.map((object) => ({ object })),
          ...thePlan.shared,
          { object: thePlan.deployment, source: thePlan.deploymentSource },
          ...thePlan.autoscalers.map((object) => ({ object })),
          ...thePlan.previewServices.map((object) => ({ object })),
        ];
        for (const item of ordered) {
          assertNotLive(item, thePlan);
          const outcome = await applyObject(kube, item.object, { signal, source: item.source });
          result.applied.push(outcome);
          host.info(`${outcome.outcome.padEnd(10)} ${outcome.ref.kind} ${outcome.ref.name}`);
        }
      }),
    );

    const selector = `${APP_LABEL}=${app},${COLOR_LABEL}=${plan.candidate}`;
    await clock.run('rollout', () => {
      const progress = new Progress(host);
      return waitForRollout(kube, {
        namespace,
        name: plan?.deployment.metadata?.name as string,
        selector,
        label: thePlan.candidate,
        deadline,
        signal,
        progress: (text) => progress.update(text),
      });
    });

    const report = await clock.run('gates', () =>
      host.group('health gates', () => {
        const progress = new Progress(host);
        return runGates(
          options.gates,
          {
            kube,
            namespace,
            services: thePlan.previewServices.map((s) => s.metadata?.name as string),
            podSelector: selector,
            replicas: thePlan.replicas,
            placeholders: {
              app,
              namespace,
              environment,
              color: thePlan.candidate,
              revision: String(revision.revision),
            },
            prometheusUrl: options.prometheusUrl,
          },
          { deadline, signal, progress: (text) => progress.update(text) },
        );
      }),
    );
    result.gates = report.results;
    for (const gate of report.results) host.info(`gate ${gate.name}: ${gate.outcome} (${gate.detail})`);
    if (!report.passed) {
      const failed =
        report.results.find((g) => g.outcome === 'failed') ?? report.results.find((g) => !g.passed);
      throw new GreenlightError({
        what: `health gate "${failed?.name}"`,
        object: { kind: 'Deployment', name: plan.deployment.metadata?.name as string, namespace },
        reason: failed?.detail ?? 'a gate did not pass',
        hint: 'the candidate stays off live traffic; fix the release or the gate and deploy again',
      });
    }
    result.ready = true;

    await clock.run('tidy', () => removeStaleCopies(kube, thePlan, host));

    if (plan.activeServices.length > 0 || !state.live) {
      // Nothing serves yet (first deploy or adoption): the proven candidate becomes active. Like a promote, the
      // record notes the switch before the Services move.
      await noteSwitch(recordContext, key, {
        action: 'promote',
        revision: revision.revision,
        color: thePlan.candidate,
        route: 'service',
        holder: options.holder,
      });
      noted = true;
      await clock.run('activate', () => activate(kube, thePlan, state.snapshot, deadline, signal, host));
      result.active = true;
    }
    const proven = (current: ReleaseRecord) =>
      updateRevision(current, revision.revision, {
        ready: true,
        gates: recorded(report.results),
        status: result.active ? 'active' : 'candidate',
        ...(result.active ? { promotedAt: new Date().toISOString() } : {}),
      });
    const final = noted
      ? await recordSwitchOutcome(recordContext, key, proven)
      : await updateRecord(kube, key, proven, signal);
    noted = false;
    result.release = final.revisions.find((r) => r.revision === revision.revision);
    if (!result.active && options.promote) {
      await clock.run('promote', () =>
        (options.promote as NonNullable<DeployOptions['promote']>)(result, lock),
      );
      result.active = true;
    } else if (!result.active) {
      clock.skip('promote');
    }
    return result;
  } catch (error) {
    result.failure = describeError(error);
    if (plan && result.revision !== undefined) {
      await failCandidate(kube, options, plan, result, applied, context, error);
    }
    if (noted) await settleAfterFailure(recordContext, key);
    throw error;
  } finally {
    try {
      await lock.release();
    } catch (error) {
      host.warning(
        `could not release the lock ${lock.name}: ${describeError(error)}; it frees itself after its TTL`,
      );
    }
  }
}

interface State {
  record: ReleaseRecord;
  live: Color | undefined;
  candidate: Color;
  snapshot: DeploySnapshot;
  /** The idle colour's Deployment when its immutable selector differs from ours: it is replaced. */
  staleCandidate?: string;
}

/** The live state a deploy plans from: `record` (already settled) and what the cluster runs. */
async function readState(
  context: SwitchContext,
  options: DeployOptions,
  record: ReleaseRecord,
): Promise<State> {
  const { app, namespace } = options;
  const { kube, host, signal } = context;
  const services = await withRetry(() => kube.core.listNamespacedService({ namespace }), { signal }).catch(
    (error) => {
      throw kubeError(error, {
        what: 'read the live state',
        object: { kind: 'Service', name: '(list)', namespace },
        server: kube.server,
      });
    },
  );
  const active = services.items.find((s) => s.metadata?.name === activeServiceName(app));
  const serviceColor =
    active?.spec?.selector?.[APP_LABEL] === app ? active.spec.selector[COLOR_LABEL] : undefined;
  const recordColor = liveColor(record);
  const routed = await ingressRoutedColor(context, app);
  let live: Color | undefined = recordColor;
  // What serves is what routes: Ingress backends on a colour Service (route: ingress) win over the active Service.
  const serving = routed ?? (serviceColor === 'blue' || serviceColor === 'green' ? serviceColor : undefined);
  if (serving) {
    if (recordColor && recordColor !== serving) {
      host.warning(
        `the release record says ${recordColor} is live but ${routed ? 'the Ingresses route to' : `Service ${activeServiceName(app)} selects`} ${serving}; trusting the cluster`,
      );
    }
    live = serving;
  }
  const readDeployment = (name: string) =>
    withRetry(
      async () => {
        try {
          return await kube.apps.readNamespacedDeployment({ name, namespace });
        } catch (error) {
          if (isNotFound(error)) return undefined;
          throw error;
        }
      },
      { signal },
    ).catch((error) => {
      throw kubeError(error, {
        what: 'read the live state',
        object: { kind: 'Deployment', name, namespace },
        server: kube.server,
      });
    });
  const snapshot: DeploySnapshot = { existingServices: services.items.map((s) => s.metadata?.name ?? '') };
  if (live) {
    const liveDeployment = await readDeployment(colorDeploymentName(app, live));
    snapshot.liveReplicas = liveDeployment?.spec?.replicas;
  } else if (
    active &&
    serviceColor === undefined &&
    active.spec?.selector &&
    Object.keys(active.spec.selector).length > 0
  ) {
    // A plain Service selects the app: find the plain Deployment behind it, to adopt.
    const selector = active.spec.selector;
    const list = await withRetry(() => kube.apps.listNamespacedDeployment({ namespace }), { signal });
    const plain = list.items.find((d: V1Deployment) => {
      const labels = d.spec?.template?.metadata?.labels ?? {};
      return !labels[COLOR_LABEL] && Object.entries(selector).every(([k, v]) => labels[k] === v);
    });
    if (plain?.metadata?.name) {
      snapshot.adopt = {
        deployment: plain.metadata.name,
        replicas: plain.spec?.replicas ?? 1,
        selector: { ...selector },
      };
    }
  }
  const candidate: Color = live ? otherColor(live) : (latestRevision(record)?.color ?? 'blue');
  const idle = await readDeployment(colorDeploymentName(app, candidate));
  const wanted = { [APP_LABEL]: app, [COLOR_LABEL]: candidate };
  const existing = idle?.spec?.selector?.matchLabels ?? {};
  const staleCandidate =
    idle &&
    (Object.keys(existing).length !== 2 ||
      existing[APP_LABEL] !== wanted[APP_LABEL] ||
      existing[COLOR_LABEL] !== candidate)
      ? colorDeploymentName(app, candidate)
      : undefined;
  return { record, live, candidate, snapshot, staleCandidate };
}

/** Adds (or, on a re-run with the same fingerprint, refreshes) the candidate revision; retires older candidates. */
function withCandidate(current: ReleaseRecord, plan: DeployPlan, options: DeployOptions): ReleaseRecord {
  const now = new Date().toISOString();
  const latest = latestRevision(current);
  const rerun =
    latest &&
    latest.fingerprint === plan.fingerprint &&
    latest.color === plan.candidate &&
    (latest.status === 'candidate' || latest.status === 'failed');
  const number = rerun ? latest.revision : nextRevisionNumber(current);
  let record = current;
  for (const old of current.revisions) {
    if (old.status === 'candidate' && old.revision !== number) {
      record = updateRevision(record, old.revision, {
        status: 'retired',
        reason: `superseded by revision ${number}`,
      });
    }
  }
  const revision: ReleaseRevision = {
    revision: number,
    color: plan.candidate,
    status: 'candidate',
    deployment: plan.deployment.metadata?.name as string,
    appVersion: options.origin.appVersion ?? plan.appVersion,
    chart: options.origin.chart,
    images: plan.images,
    gitSha: options.origin.gitSha,
    runUrl: options.origin.runUrl,
    actor: options.origin.actor,
    createdAt: rerun ? latest.createdAt : now,
    updatedAt: now,
    ready: false,
    gates: [],
    fingerprint: plan.fingerprint,
    replicas: plan.replicas,
  };
  return putRevision(record, revision);
}

function recorded(results: readonly GateResult[]): RecordedGate[] {
  return results.map((g) => ({
    kind: g.kind,
    name: g.name,
    passed: g.passed,
    detail: g.detail,
    durationMs: g.durationMs,
  }));
}

/** Refuses to apply anything that would change the live colour's workload (a guard against planner bugs). */
function assertNotLive(item: SourcedObject, plan: DeployPlan): void {
  if (!plan.live) return;
  const labels = item.object.metadata?.labels ?? {};
  const name = item.object.metadata?.name;
  if (labels[COLOR_LABEL] === plan.live || name === colorDeploymentName(plan.app, plan.live)) {
    throw new GreenlightError({
      what: 'apply',
      object: refOf(item.object),
      reason: `it belongs to the live colour ${plan.live}, which a deploy never modifies`,
      hint: 'this is a Greenlight bug; please report it with the rendered objects',
    });
  }
}

async function deleteIdleDeployment(kube: Kube, namespace: string, name: string, host: Host): Promise<void> {
  host.info(`Deployment ${name} (idle) has a selector Greenlight did not set; it is replaced, not patched`);
  try {
    await kube.apps.deleteNamespacedDeployment({ name, namespace, propagationPolicy: 'Foreground' });
  } catch (error) {
    if (!isNotFound(error))
      throw kubeError(error, {
        what: 'replace the idle workload',
        object: { kind: 'Deployment', name, namespace },
      });
  }
}

/** Deletes the candidate colour's config copies that the new Deployment no longer references. */
async function removeStaleCopies(kube: Kube, plan: DeployPlan, host: Host): Promise<void> {
  const labelSelector = `${APP_LABEL}=${plan.app},${COLOR_LABEL}=${plan.candidate},app.kubernetes.io/managed-by=greenlight`;
  const keep = new Set(plan.configCopies.map((c) => `${c.kind}/${c.metadata?.name}`));
  const namespace = plan.namespace;
  const configMaps = await kube.core.listNamespacedConfigMap({ namespace, labelSelector });
  for (const cm of configMaps.items) {
    const name = cm.metadata?.name as string;
    if (!cm.metadata?.annotations?.[COPY_OF_ANNOTATION] || keep.has(`ConfigMap/${name}`)) continue;
    await kube.core.deleteNamespacedConfigMap({ name, namespace }).catch((error: unknown) => {
      if (!isNotFound(error))
        throw kubeError(error, {
          what: 'remove an old config copy',
          object: { kind: 'ConfigMap', name, namespace },
        });
    });
    host.info(`removed    ConfigMap ${name} (an older copy for ${plan.candidate})`);
  }
  const secrets = await kube.core.listNamespacedSecret({ namespace, labelSelector });
  for (const secret of secrets.items) {
    const name = secret.metadata?.name as string;
    if (!secret.metadata?.annotations?.[COPY_OF_ANNOTATION] || keep.has(`Secret/${name}`)) continue;
    await kube.core.deleteNamespacedSecret({ name, namespace }).catch((error: unknown) => {
      if (!isNotFound(error))
        throw kubeError(error, {
          what: 'remove an old config copy',
          object: { kind: 'Secret', name, namespace },
        });
    });
    host.info(`removed    Secret ${name} (an older copy for ${plan.candidate})`);
  }
}

/**
 * First deploy or adoption: creates (or moves) the active Services onto the proven candidate, waits until their
 * endpoints are exactly the candidate's ready pods, then scales an adopted plain Deployment to zero.
 */
async function activate(
  kube: Kube,
  plan: DeployPlan,
  snapshot: DeploySnapshot,
  deadline: number,
  signal: AbortSignal,
  host: Host,
): Promise<void> {
  const moved: V1Service[] = [];
  try {
    for (const service of plan.activeServices) {
      const outcome = await applyObject(kube, service as V1Service, { signal });
      moved.push(service);
      host.info(`${outcome.outcome.padEnd(10)} Service ${outcome.ref.name} -> ${plan.candidate}`);
    }
    if (plan.activeServices.length > 0) {
      const check = await runEndpointsGate(
        kube,
        'active endpoints',
        {
          namespace: plan.namespace,
          services: plan.activeServices.map((s) => s.metadata?.name as string),
          podSelector: `${APP_LABEL}=${plan.app},${COLOR_LABEL}=${plan.candidate}`,
          replicas: plan.replicas,
        },
        { deadline, signal },
      );
      if (!check.passed) {
        throw new GreenlightError({
          what: 'activate the first colour',
          object: {
            kind: 'Service',
            name: plan.activeServices[0]?.metadata?.name as string,
            namespace: plan.namespace,
          },
          reason: check.detail,
          hint: 'the Service does not route to the candidate pods; check its ports and that nothing else edits it',
        });
      }
    }
  } catch (error) {
    // An adoption moved a Service that served the old Deployment: put its selector back before anything else.
    if (snapshot.adopt?.selector) {
      for (const service of moved) {
        const restore = { ...service, spec: { ...service.spec, selector: snapshot.adopt.selector } };
        try {
          await applyObject(kube, restore as V1Service);
          host.info(
            `restored  Service ${service.metadata?.name} to the old Deployment ${snapshot.adopt.deployment}`,
          );
        } catch (restoreError) {
          host.warning(
            `could not restore Service ${service.metadata?.name} to ${snapshot.adopt.deployment}: ${describeError(restoreError)}`,
          );
        }
      }
    }
    throw error;
  }
  if (snapshot.adopt) {
    await scaleDeployment(kube, plan.namespace, snapshot.adopt.deployment, 0);
    host.info(
      `scaled Deployment ${snapshot.adopt.deployment} to 0: ${plan.candidate} now serves the app (delete it when you are sure)`,
    );
  }
}

/** Sets a Deployment's replicas with a merge patch under a separate field manager (the next apply takes it back). */
export async function scaleDeployment(
  kube: Kube,
  namespace: string,
  name: string,
  replicas: number,
): Promise<void> {
  try {
    await withRetry(() =>
      kube.apps.patchNamespacedDeployment(
        { name, namespace, body: { spec: { replicas } }, fieldManager: 'greenlight-scale' },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
  } catch (error) {
    throw kubeError(error, {
      what: `scale to ${replicas}`,
      object: { kind: 'Deployment', name, namespace },
      server: kube.server,
    });
  }
}

/** After a failure: scale the candidate to zero (unless kept), record it as failed with the reason. Never throws. */
async function failCandidate(
  kube: Kube,
  options: DeployOptions,
  plan: DeployPlan,
  result: DeployResult,
  applied: boolean,
  context: DeployContext,
  error: unknown,
): Promise<void> {
  const { host } = context;
  const cancelled = context.signal.aborted;
  const reason = cancelled ? `cancelled: ${describeError(context.signal.reason)}` : describeError(error);
  const name = plan.deployment.metadata?.name as string;
  // Never take down a colour that serves: a promote that flipped and then failed, or a first colour whose Service
  // was created before the failure, stays up and is left for promote's rollback to handle.
  // Read with a deadline of its own: this also runs after the job was cancelled.
  const serving = await trafficColor(
    { kube, namespace: options.namespace, signal: AbortSignal.timeout(SETTLE_AFTER_CANCEL_MS) },
    options.app,
    'service',
  ).catch(() => 'unknown' as const);
  if (serving === plan.candidate || serving === 'unknown') {
    host.warning(
      serving === 'unknown'
        ? `the active Service could not be read, so Deployment ${name} stays up rather than risk taking down what serves`
        : `the active Service selects ${plan.candidate}, so Deployment ${name} stays up; use promote with action: rollback to move traffic back`,
    );
    return;
  }
  if (applied && plan.candidate !== plan.live) {
    if (options.keepFailed) {
      host.info(`keep-failed: Deployment ${name} stays up for debugging; it receives no live traffic`);
    } else {
      try {
        await scaleDeployment(kube, options.namespace, name, 0);
        host.info(`scaled the failed candidate Deployment ${name} to 0; the live colour is untouched`);
      } catch (scaleError) {
        if (isNotFound((scaleError as { cause?: unknown }).cause)) {
          host.info(`nothing to scale down: Deployment ${name} was never created`);
        } else {
          host.warning(`could not scale ${name} to 0: ${describeError(scaleError)}`);
        }
      }
    }
  }
  try {
    const record = await updateRecord(
      kube,
      { namespace: options.namespace, app: options.app, environment: options.environment },
      (current) =>
        updateRevision(current, result.revision as number, {
          status: 'failed',
          ready: false,
          reason: reason.split('\n')[0],
          gates: recorded(result.gates),
        }),
    );
    result.release = record.revisions.find((r) => r.revision === result.revision);
  } catch (recordError) {
    host.warning(`could not record the failure in the release record: ${describeError(recordError)}`);
  }
}

function previewUrl(gates: readonly GateSpec[], plan: DeployPlan): string {
  const http = gates.find((g) => g.kind === 'http');
  if (http && http.kind === 'http') return http.url.replace(/\{\{\s*color\s*\}\}/g, plan.candidate);
  const preview = plan.previewServices[0];
  if (!preview) return '';
  const port = preview.spec?.ports?.[0]?.port;
  return `http://${preview.metadata?.name}.${plan.namespace}.svc${port && port !== 80 ? `:${port}` : ''}`;
}
