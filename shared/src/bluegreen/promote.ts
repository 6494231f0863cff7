import type { V1EndpointSlice, V1Pod } from '@kubernetes/client-node';
import type { DeploymentTracker } from '../github/deployments.ts';
import { probeHttp } from '../health/http.ts';
import { queryValue } from '../health/prometheus.ts';
import { type GateReport, runGates } from '../health/run.ts';
import { expandPlaceholders, type GateSpec } from '../health/spec.ts';
import type { Kube } from '../kube/client.ts';
import { kubeError } from '../kube/errors.ts';
import { acquireLock, type HeldLock, holderIdentity, lockName } from '../kube/lock.ts';
import { sleep, withRetry } from '../kube/retry.ts';
import {
  type Color,
  candidateRevision,
  markActive,
  otherColor,
  type ReleaseRecord,
  type ReleaseRevision,
  recordName,
  updateRevision,
} from '../release/record.ts';
import { type RecordKey, readRecord } from '../release/store.ts';
import { describeError, GreenlightError } from '../runtime/errors.ts';
import type { Host } from '../runtime/host.ts';
import type { PhaseClock } from '../runtime/summary.ts';
import { deployBlueGreen } from './deploy.ts';
import type { SourcedObject } from './plan.ts';
import { podTrouble, readColorDeployment, runsRevision, scaleColor, waitForScaledDown } from './rollback.ts';
import { noteSwitch, readSettledRecord, recordSwitchOutcome, settleAfterFailure } from './settle.ts';
import {
  activeServiceName,
  colorServiceName,
  type EndpointCensus,
  endpointCensus,
  flipTo,
  formatCensus,
  isServingPod,
  podSelector,
  previewServiceName,
  type SwitchContext,
} from './switch.ts';
import { assertServiceRoute } from './traffic.ts';

/** Which app and environment a promote, rollback or abort works on. */
export interface ReleaseTarget {
  kube: Kube;
  app: string;
  namespace: string;
  environment: string;
}

/** What every run gets from the edge. */
export interface RunContext {
  host: Host;
  clock: PhaseClock;
  signal: AbortSignal;
  /** GITHUB_* variables (the lock holder's identity) and the like. */
  env: NodeJS.ProcessEnv;
  /** Starts a GitHub deployment once there is something to deploy; absent when GitHub is not involved. */
  github?: (description: string, payload: Record<string, string>) => Promise<DeploymentTracker>;
  /** The URL users open for the environment, posted with a successful GitHub deployment status. */
  environmentUrl?: string;
  /** How long to wait for another run holding the lock (default 10 minutes). */
  lockWaitMs?: number;
  /** A lock this run already holds (deploy-bluegreen with promote: auto): used as is and not released here. */
  lock?: HeldLock;
}

export interface PromoteOptions extends ReleaseTarget, RunContext {
  /** Refuse unless the candidate runs this digest (`sha256:...` or `name@sha256:...`). */
  expectedDigest?: string;
  verifyForMs: number;
  scaleDownDelayMs: number;
  keepPrevious: boolean;
  /** Keep a candidate that failed its verification running for inspection (default: scaled to zero). */
  keepFailed?: boolean;
  route: 'service' | 'ingress';
  /** For the checks, the flip and the endpoint switch; the verification window comes on top. */
  timeoutMs: number;
  gates: readonly GateSpec[];
  /** Default Prometheus URL for gates that name none. */
  prometheusUrl?: string;
  /** How often the verification window evaluates the gates; default from the gates, between 1 and 10 s. */
  verifyIntervalMs?: number;
}

/** One gate's record over the verification window. */
export interface GateWatch {
  name: string;
  kind: GateSpec['kind'];
  checks: number;
  failures: number;
  /** The latest observation, in words. */
  last: string;
}

/** What the verification window saw. */
export interface VerificationReport {
  passed: boolean;
  rounds: number;
  durationMs: number;
  gates: GateWatch[];
  /** Why it failed, in one line. */
  failure?: string;
}

/** How a promote, rollback or abort ended: the facts the outputs and the summary show. */
export interface ReleaseOutcome {
  action: 'promote' | 'rollback' | 'abort';
  activeColor: Color | undefined;
  previousColor: Color | undefined;
  /** The revision now active (0 when none is). */
  revision: number;
  /** The active image, `name@sha256:...`. */
  image: string;
  rolledBack: boolean;
  /** One line on what happened. */
  message: string;
  /** The gates re-checked before the flip. */
  recheck?: GateReport;
  verification?: VerificationReport;
  /** The active Service's endpoints right after the flip. */
  census?: EndpointCensus;
  /** Set when the run failed after doing something (a flip back): the outputs still hold, the step fails. */
  failure?: GreenlightError;
}

/** The decision a promote makes from the release record alone. */
export type PromotionDecision =
  | { kind: 'promote'; candidate: ReleaseRevision; active: ReleaseRevision | undefined }
  | { kind: 'nothing'; active: ReleaseRevision }
  | { kind: 'refuse'; reason: string; hint: string };

/** The newest revision with `status`. */
function newest(record: ReleaseRecord, status: ReleaseRevision['status']): ReleaseRevision | undefined {
  return [...record.revisions].reverse().find((r) => r.status === status);
}

/** `sha256:...` from `sha256:...` or `name@sha256:...`; undefined when there is no digest in the text. */
export function digestOf(text: string): string | undefined {
  return /(sha256:[0-9a-f]{64})$/.exec(text.trim())?.[1];
}

/** The image a revision runs, `name@sha256:...` (its first image). */
export function imageOf(revision: ReleaseRevision | undefined): string {
  return revision?.images[0]?.reference ?? '';
}

/**
 * Decides what a promote does: promote the newest candidate when it passed its gates and runs the expected
 * digest; nothing when there is no candidate but a live revision (a re-run after success); refuse otherwise.
 */
export function decidePromotion(record: ReleaseRecord, expectedDigest?: string): PromotionDecision {
  const candidate = candidateRevision(record);
  const active = newest(record, 'active');
  if (!candidate) {
    if (active) return { kind: 'nothing', active };
    return {
      kind: 'refuse',
      reason: `no release of ${record.app} has been deployed to ${record.environment}: there is nothing to promote`,
      hint: 'run deploy-bluegreen first; it puts the release on the idle colour',
    };
  }
  if (!candidate.ready) {
    return {
      kind: 'refuse',
      reason: `candidate revision ${candidate.revision} on ${candidate.color} did not pass its health gates at deploy${candidate.reason ? ` (${candidate.reason})` : ''}`,
      hint: 'fix the release and deploy it again, or abort the candidate',
    };
  }
  if (expectedDigest?.trim()) {
    const expected = digestOf(expectedDigest);
    if (!expected) {
      return {
        kind: 'refuse',
        reason: `expected-digest "${expectedDigest}" is not a digest`,
        hint: 'give it as sha256:<64 hex digits> or name@sha256:<64 hex digits>',
      };
    }
    const running = candidate.images.map((i) => i.digest ?? digestOf(i.reference)).filter(Boolean);
    if (!running.includes(expected)) {
      return {
        kind: 'refuse',
        reason: `candidate revision ${candidate.revision} runs ${running.join(', ') || 'no pinned digest'}, not the expected ${expected}`,
        hint: 'promote only what was approved: deploy the expected digest first, or correct expected-digest',
      };
    }
  }
  return { kind: 'promote', candidate, active };
}

/** The record once `revision` is promoted: it turns active, the one active before turns previous. */
export const markPromoted = markActive;

/** The record once the verification of `revision` failed and traffic went back: it is marked failed. */
export function markVerificationFailed(
  record: ReleaseRecord,
  revision: number,
  reason: string,
  now: Date = new Date(),
): ReleaseRecord {
  return updateRevision(record, revision, { status: 'failed', ready: false, reason }, now);
}

/** Evaluation interval of the verification window: the shortest gate interval, kept within 1-10 s. */
export function verifyInterval(gates: readonly GateSpec[], override?: number): number {
  if (override !== undefined) return Math.max(100, override);
  const intervals = gates.flatMap((g) => (g.kind === 'endpoints' ? [] : [g.intervalMs]));
  return Math.min(10_000, Math.max(1_000, Math.min(2_000, ...intervals)));
}

/** Failed observations in a row after which a gate fails the window: one blip of an HTTP check is forgiven. */
export function failuresToFail(kind: GateSpec['kind']): number {
  return kind === 'prometheus' ? 1 : 2;
}

/**
 * Takes the app's lock (or uses the one the run already holds), runs `fn` with a signal that also fires when the
 * lock is lost, and releases a lock it took.
 */
export async function withReleaseLock<T>(
  target: ReleaseTarget,
  run: RunContext,
  fn: (signal: AbortSignal, lock: HeldLock) => Promise<T>,
): Promise<T> {
  const { kube, namespace, app, environment } = target;
  if (run.lock) return fn(AbortSignal.any([run.signal, run.lock.lost]), run.lock);
  const lock = await run.clock.run('take the lock', () =>
    acquireLock(kube, {
      namespace,
      name: lockName(app, environment),
      holder: holderIdentity(run.env),
      waitMs: run.lockWaitMs,
      signal: run.signal,
      onWait: (holder, expiresInMs) =>
        run.host.info(
          `Waiting for ${holder} to release Lease ${namespace}/${lockName(app, environment)} (expires in ${Math.round(expiresInMs / 1000)} s)`,
        ),
      onTrouble: (message) => run.host.warning(message),
    }),
  );
  try {
    return await fn(AbortSignal.any([run.signal, lock.lost]), lock);
  } finally {
    await lock.release();
  }
}

/**
 * Promotes the candidate: under the app's lock, reads the record, re-checks the candidate (rollout, digest,
 * gates), flips traffic to it in one selector patch, waits until the active Service serves only it, runs the
 * verification window and flips back at once when it fails. On success it records the candidate as active, then
 * scales the previous colour down after `scale-down-delay` (or keeps it with `keep-previous`).
 */
export async function promoteRelease(options: PromoteOptions): Promise<ReleaseOutcome> {
  const { kube, app, namespace, environment, host, clock } = options;
  const key: RecordKey = { namespace, app, environment };
  return withReleaseLock(options, options, async (signal) => {
    const deadline = Date.now() + options.timeoutMs;
    const context: SwitchContext = { kube, namespace, host, deadline, signal };
    const { record } = await readSettledRecord(context, key);
    const decision = decidePromotion(record, options.expectedDigest);
    if (decision.kind === 'refuse') {
      throw new GreenlightError({
        what: 'promote',
        object: { kind: 'ConfigMap', name: recordName(app, environment), namespace },
        reason: decision.reason,
        hint: decision.hint,
      });
    }
    if (decision.kind === 'nothing') {
      const active = decision.active;
      host.info(`Nothing to promote: revision ${active.revision} on ${active.color} is already active.`);
      return {
        action: 'promote',
        activeColor: active.color,
        previousColor: otherColor(active.color),
        revision: active.revision,
        image: imageOf(active),
        rolledBack: false,
        message: `nothing to promote: revision ${active.revision} on ${active.color} is already active`,
      };
    }
    const { candidate } = decision;
    if (options.route === 'service') await assertServiceRoute(context, app);
    const live = decision.active;
    const target = candidate.color;
    const previous = otherColor(target);
    const image = imageOf(candidate);
    const tracker = await options.github?.(
      `${app} revision ${candidate.revision}${candidate.appVersion ? ` (${candidate.appVersion})` : ''} to ${environment}`,
      { app, revision: String(candidate.revision), color: target, image },
    );
    await tracker?.report('in_progress', `promoting revision ${candidate.revision} to ${target}`);
    const outcome: ReleaseOutcome = {
      action: 'promote',
      activeColor: target,
      previousColor: previous,
      revision: candidate.revision,
      image,
      rolledBack: false,
      message: '',
    };
    // A job cancelled between the flip and the record must not leave traffic on an unverified candidate: put it
    // back on the live colour (with a short deadline of its own, the run's signal having fired) and say so.
    let flipStarted = false;
    const undoOnCancel = async <T>(step: () => Promise<T>): Promise<T> => {
      try {
        return await step();
      } catch (error) {
        if (!options.signal.aborted || !live) throw error;
        if (!flipStarted) {
          await tracker?.report('failure', `cancelled before the flip; traffic stays on ${previous}`);
          throw new GreenlightError({
            what: `promote revision ${candidate.revision}`,
            object: { kind: 'Service', name: activeServiceName(app), namespace },
            reason: `the job was cancelled (${describeError(options.signal.reason)}) before the flip; traffic stays on ${previous}`,
            hint: 'the candidate is still deployed: run promote again to retry',
            cause: error,
          });
        }
        host.warning(`cancelled: switching traffic back to ${previous} so nothing is left half-switched`);
        await flipTo(
          { kube, namespace, host, deadline: Date.now() + 20_000 },
          { app, route: options.route, target: previous },
        );
        await tracker?.report('failure', `cancelled; traffic is back on ${previous}`);
        throw new GreenlightError({
          what: `promote revision ${candidate.revision}`,
          object: { kind: 'Service', name: activeServiceName(app), namespace },
          reason: `the job was cancelled (${describeError(options.signal.reason)}); traffic was switched back to ${previous}`,
          hint: 'the candidate is still deployed: run promote again to retry',
          cause: error,
        });
      }
    };
    // The note is written before traffic moves; a failed or cancelled switch settles it from where traffic ended.
    let noted = false;
    try {
      await undoOnCancel(() => flipAndVerify());
    } catch (error) {
      if (noted) await settleAfterFailure(context, key);
      throw error;
    }
    if (outcome.rolledBack) return outcome;
    await clock.run('record the promotion', async () => {
      try {
        await recordSwitchOutcome(context, key, (r) => markPromoted(r, candidate.revision));
      } catch (error) {
        host.warning(
          `revision ${candidate.revision} serves on ${target} and passed its verification, but the release record could not say so; it notes the switch, and the next deploy, promote, rollback or abort records it`,
        );
        throw error;
      }
    });
    await tracker?.report(
      'success',
      `revision ${candidate.revision} is live on ${target}`,
      options.environmentUrl,
    );
    outcome.message = `revision ${candidate.revision} is live on ${target}`;
    if (options.signal.aborted) {
      // Cancelled while the promotion was recorded: it is live and recorded; the previous colour stays up.
      throw new GreenlightError({
        what: `promote revision ${candidate.revision}`,
        object: { kind: 'Service', name: activeServiceName(app), namespace },
        reason: `the job was cancelled (${describeError(options.signal.reason)}) after revision ${candidate.revision} went live on ${target} and was recorded`,
        hint: `${colorDeploymentName(app, previous)} stays up for an instant rollback; the next promote or deploy retires it`,
      });
    }
    await retireColor(context, { ...options, color: previous });
    return outcome;

    async function flipAndVerify(): Promise<void> {
      try {
        outcome.recheck = await clock.run('re-check the candidate', () =>
          recheckCandidate(context, options, candidate),
        );
        await noteSwitch(context, key, {
          action: 'promote',
          revision: candidate.revision,
          color: target,
          from: live?.revision,
          route: options.route,
          holder: holderIdentity(options.env),
        });
        noted = true;
        flipStarted = true;
        await clock.run(`switch traffic to ${target}`, () =>
          flipOrFlipBack(context, options, target, previous, live !== undefined),
        );
        outcome.census = await censusOf(
          context,
          app,
          options.route === 'service' ? activeServiceName(app) : colorServiceName(app, target),
        );
        host.info(`Traffic is on ${target}: ${formatCensus(outcome.census)}`);
      } catch (error) {
        // A cancellation is reported once, by undoOnCancel, with where traffic ended up.
        if (!options.signal.aborted) await tracker?.report('failure', describeError(error));
        throw error;
      }

      if (options.verifyForMs > 0) {
        const report = await clock.run('verification window', () =>
          verifyWindow(context, options, candidate, signal),
        );
        outcome.verification = report;
        if (!report.passed && !live) {
          // Nothing served before this candidate: there is no colour to go back to.
          const reason = `verification failed: ${report.failure}`;
          await recordSwitchOutcome(context, key, (r) =>
            markVerificationFailed(r, candidate.revision, reason),
          );
          await tracker?.report('failure', reason);
          throw new GreenlightError({
            what: `verify revision ${candidate.revision} on ${target}`,
            object: { kind: 'Service', name: activeServiceName(app), namespace },
            reason: `${report.failure}; nothing served before it, so there is no colour to switch back to`,
            hint: 'fix the release and deploy again; the candidate still receives the traffic',
          });
        }
        if (!report.passed) {
          const reason = `verification failed: ${report.failure}`;
          host.warning(`${reason}; switching traffic back to ${previous}`);
          await clock.run(`switch back to ${previous}`, () =>
            flipTo(
              { ...context, deadline: Date.now() + options.timeoutMs },
              { app, route: options.route, target: previous },
            ),
          );
          await recordSwitchOutcome(context, key, (r) =>
            markVerificationFailed(r, candidate.revision, reason),
          );
          await tracker?.report('failure', `${reason}; traffic is back on ${previous}`);
          const failedName = colorDeploymentName(app, target);
          if (options.keepFailed) {
            host.info(`keep-failed: ${failedName} stays up for inspection; it receives no live traffic`);
          } else {
            // Like a deploy that fails its gates: the failed candidate does not keep running (and holding
            // capacity, or writing to shared stores) once it serves nothing.
            await clock.run(`scale down ${target}`, async () => {
              await scaleColor(context, app, target, 0);
              await waitForScaledDown({ ...context, deadline: Date.now() + 120_000 }, app, target);
            });
            host.info(
              `scaled the failed candidate ${failedName} to 0; keep-failed: true keeps it up next time`,
            );
          }
          const active = live;
          Object.assign(outcome, {
            activeColor: previous,
            previousColor: target,
            revision: active?.revision ?? 0,
            image: imageOf(active),
            rolledBack: true,
            message: `${reason}; traffic switched back to ${previous}`,
            failure: new GreenlightError({
              what: `verify revision ${candidate.revision} on ${target}`,
              object: { kind: 'Service', name: activeServiceName(app), namespace },
              reason: `${report.failure}; traffic was switched back to ${previous} at once`,
              hint: options.keepFailed
                ? `the candidate ${failedName} is kept for inspection; fix the release and deploy again`
                : `the candidate ${failedName} was scaled to zero (keep-failed: true keeps it up); fix the release and deploy again`,
            }),
          });
          return;
        }
      } else {
        clock.skip('verification window');
      }
    }
  });
}

function colorDeploymentName(app: string, color: Color): string {
  return `${app}-${color}`;
}

/**
 * Flips to `target`; when the flip went through but the endpoints did not converge in time, flips back to
 * `previous` before failing, so nothing is left half-switched.
 */
async function flipOrFlipBack(
  context: SwitchContext,
  options: PromoteOptions,
  target: Color,
  previous: Color,
  hadLive: boolean,
): Promise<void> {
  try {
    await flipTo(context, { app: options.app, route: options.route, target });
  } catch (error) {
    const switched = error instanceof GreenlightError && error.what.startsWith('wait for Service');
    if (switched && hadLive) {
      context.host.warning(`${describeError(error)}; switching traffic back to ${previous}`);
      await flipTo(
        { ...context, deadline: Date.now() + options.timeoutMs },
        { app: options.app, route: options.route, target: previous },
      );
    }
    throw error;
  }
}

/**
 * Checks the candidate again right before the flip: its Deployment still exists, still runs the revision's
 * images, has every replica ready, and its gates pass. Throws with the pods' trouble when it died since deploy.
 */
export async function recheckCandidate(
  context: SwitchContext,
  options: PromoteOptions,
  candidate: ReleaseRevision,
): Promise<GateReport> {
  const { app, namespace } = options;
  const name = colorDeploymentName(app, candidate.color);
  const ref = { kind: 'Deployment', name, namespace };
  const deployment = await readColorDeployment(context, app, candidate.color);
  if (!deployment) {
    throw new GreenlightError({
      what: 're-check the candidate',
      object: ref,
      reason: `revision ${candidate.revision}'s Deployment is gone`,
      hint: 'deploy the release again with deploy-bluegreen',
    });
  }
  if (!runsRevision(deployment, candidate)) {
    throw new GreenlightError({
      what: 're-check the candidate',
      object: ref,
      reason: `it no longer runs revision ${candidate.revision}'s images (${imageOf(candidate)})`,
      hint: 'someone changed it since the deploy; deploy the release again',
    });
  }
  const desired = deployment.spec?.replicas ?? 1;
  // The pods are the proof (Ready and not terminating): they are what the endpoints will hold. The Deployment's
  // status lags behind them either way for a moment after a quick scale down and up.
  const pods = await listPods(context, app, candidate.color);
  const ready = pods.filter(isServingPod).length;
  if (desired === 0 || ready < desired) {
    throw new GreenlightError({
      what: 're-check the candidate',
      object: ref,
      reason:
        desired === 0
          ? 'it is scaled to zero (aborted, or scaled down by hand)'
          : `only ${ready} of ${desired} replicas are ready since the deploy: ${podTrouble(pods)}`,
      hint: `kubectl -n ${namespace} describe pods -l ${podSelector(app, candidate.color)}; fix and deploy again`,
    });
  }
  const preview = previewServiceName(app);
  const services = await withRetry(() => context.kube.core.listNamespacedService({ namespace }), {
    signal: context.signal,
  });
  const hasPreview = services.items.some((s) => s.metadata?.name === preview);
  const report = await runGates(
    options.gates,
    {
      kube: context.kube,
      namespace,
      services: hasPreview ? [preview] : [],
      podSelector: podSelector(app, candidate.color),
      replicas: desired,
      placeholders: placeholders(options, candidate),
      prometheusUrl: options.prometheusUrl,
    },
    { deadline: context.deadline, signal: context.signal, progress: (text) => context.host.info(text) },
  );
  if (!report.passed) {
    const failed =
      report.results.find((r) => r.outcome === 'failed') ?? report.results.find((r) => !r.passed);
    throw new GreenlightError({
      what: 're-check the candidate',
      object: ref,
      reason: `health gate "${failed?.name}" failed: ${failed?.detail}`,
      hint: 'the candidate is not healthy any more; the live colour was left as it is',
    });
  }
  return report;
}

function placeholders(options: PromoteOptions, revision: ReleaseRevision): Record<string, string> {
  return {
    app: options.app,
    color: revision.color,
    namespace: options.namespace,
    environment: options.environment,
    revision: String(revision.revision),
  };
}

async function listPods(context: SwitchContext, app: string, color?: Color): Promise<V1Pod[]> {
  const { kube, namespace } = context;
  const list = await withRetry(
    () => kube.core.listNamespacedPod({ namespace, labelSelector: podSelector(app, color) }),
    { signal: context.signal },
  ).catch((error: unknown) => {
    throw kubeError(error, { what: `list the pods of ${app}`, server: kube.server });
  });
  return list.items;
}

/** The endpoints of `service` now, by the colour of the app's pods. */
export async function censusOf(
  context: SwitchContext,
  app: string,
  service: string,
): Promise<EndpointCensus> {
  const { kube, namespace } = context;
  const [slices, pods] = await Promise.all([
    withRetry(
      () =>
        kube.discovery.listNamespacedEndpointSlice({
          namespace,
          labelSelector: `kubernetes.io/service-name=${service}`,
        }),
      { signal: context.signal },
    ),
    listPods(context, app),
  ]);
  return endpointCensus(slices.items as V1EndpointSlice[], pods);
}

/**
 * Runs the verification window: every interval, each gate is evaluated once against the live candidate. A
 * Prometheus value out of bounds fails it at once; an HTTP check or the endpoints check fails it after two bad
 * observations in a row; the active Service left without a ready endpoint of the candidate fails it at once.
 */
export async function verifyWindow(
  context: SwitchContext,
  options: PromoteOptions,
  candidate: ReleaseRevision,
  signal: AbortSignal,
): Promise<VerificationReport> {
  const started = Date.now();
  const end = started + options.verifyForMs;
  const interval = verifyInterval(options.gates, options.verifyIntervalMs);
  const values = placeholders(options, candidate);
  const service =
    options.route === 'service'
      ? activeServiceName(options.app)
      : colorServiceName(options.app, candidate.color);
  const gates: GateWatch[] = options.gates.map((g) => ({
    name: g.name,
    kind: g.kind,
    checks: 0,
    failures: 0,
    last: '',
  }));
  const streaks = gates.map(() => 0);
  let rounds = 0;
  const progress = (text: string) => context.host.info(text);
  progress(
    `Verifying ${candidate.color} for ${Math.round(options.verifyForMs / 1000)} s (every ${interval} ms)`,
  );
  for (;;) {
    rounds++;
    for (const [index, spec] of options.gates.entries()) {
      const watch = gates[index] as GateWatch;
      const { ok, text, fatal } = await observe(context, options, spec, values, service, candidate, signal);
      watch.checks++;
      watch.last = text;
      if (ok) {
        streaks[index] = 0;
        continue;
      }
      watch.failures++;
      streaks[index] = (streaks[index] ?? 0) + 1;
      if (fatal || (streaks[index] ?? 0) >= failuresToFail(spec.kind)) {
        return {
          passed: false,
          rounds,
          durationMs: Date.now() - started,
          gates,
          failure: `gate "${spec.name}" ${text}`,
        };
      }
    }
    const left = end - Date.now();
    if (left <= 0) break;
    await sleep(Math.min(interval, left), signal);
  }
  progress(`Verification passed: ${rounds} rounds over ${Math.round((Date.now() - started) / 1000)} s`);
  return { passed: true, rounds, durationMs: Date.now() - started, gates };
}

/** One observation of one gate during the window. */
async function observe(
  context: SwitchContext,
  options: PromoteOptions,
  spec: GateSpec,
  values: Record<string, string>,
  service: string,
  candidate: ReleaseRevision,
  signal: AbortSignal,
): Promise<{ ok: boolean; text: string; fatal?: boolean }> {
  if (spec.kind === 'http') {
    const result = await probeHttp(
      {
        ...spec,
        url: expandPlaceholders(spec.url, values),
        headers: Object.fromEntries(
          Object.entries(spec.headers).map(([k, v]) => [k, expandPlaceholders(v, values)]),
        ),
      },
      signal,
    );
    return { ok: result.ok, text: result.ok ? result.text : `failed: ${result.text}` };
  }
  if (spec.kind === 'prometheus') {
    const url = spec.url ?? options.prometheusUrl;
    if (!url) {
      return {
        ok: false,
        fatal: true,
        text: 'has no Prometheus URL (set url, or GREENLIGHT_PROMETHEUS_URL)',
      };
    }
    const reading = await queryValue(url, expandPlaceholders(spec.query, values), signal);
    if (reading.value === undefined) {
      if (spec.noData === 'fail') return { ok: false, fatal: true, text: `has no value: ${reading.why}` };
      return { ok: true, text: `no value (${reading.why}); no-data is ${spec.noData}` };
    }
    const tooLow = spec.min !== undefined && reading.value < spec.min;
    const tooHigh = spec.max !== undefined && reading.value > spec.max;
    if (tooLow || tooHigh) {
      const bound = tooHigh ? `above max ${spec.max}` : `below min ${spec.min}`;
      return { ok: false, fatal: true, text: `read ${reading.value}, ${bound}` };
    }
    return { ok: true, text: `value ${reading.value}` };
  }
  const census = await censusOf(context, options.app, service);
  const other = otherColor(candidate.color);
  if (census.ready[candidate.color] === 0) {
    return {
      ok: false,
      fatal: true,
      text: `Service ${service} has no ready ${candidate.color} endpoint: ${formatCensus(census)}`,
    };
  }
  if (census.ready[other] > 0) {
    return { ok: false, text: `Service ${service} serves ${other} too: ${formatCensus(census)}` };
  }
  const deployment = await readColorDeployment(context, options.app, candidate.color);
  const desired = deployment?.spec?.replicas ?? 1;
  if (census.ready[candidate.color] < desired) {
    return {
      ok: false,
      text: `Service ${service}: ${census.ready[candidate.color]} of ${desired} ${candidate.color} endpoints ready`,
    };
  }
  return { ok: true, text: formatCensus(census) };
}

/** What retiring a colour needs. */
export interface RetireOptions {
  app: string;
  color: Color;
  scaleDownDelayMs: number;
  keepPrevious: boolean;
  host: Host;
  clock: PhaseClock;
}

/**
 * After a successful flip, keeps the colour that served before at full size for the delay, then scales it to
 * zero; with keep-previous it stays up. A cancelled job leaves it up (safe: a rollback stays instant) and says so.
 */
export async function retireColor(context: SwitchContext, options: RetireOptions): Promise<void> {
  const { host, clock, color, app } = options;
  const name = colorDeploymentName(app, color);
  const deployment = await readColorDeployment(context, app, color);
  if (!deployment || (deployment.spec?.replicas ?? 0) === 0) {
    clock.skip(`scale down ${color}`);
    return;
  }
  if (options.keepPrevious) {
    host.info(`keep-previous: ${name} stays up for an instant rollback.`);
    clock.skip(`scale down ${color}`);
    return;
  }
  host.info(
    `${name} stays at full size for ${Math.round(options.scaleDownDelayMs / 1000)} s so node proxies catch up and a rollback is instant.`,
  );
  try {
    await clock.run('scale-down delay', () => sleep(options.scaleDownDelayMs, context.signal));
  } catch (error) {
    if (!context.signal?.aborted) throw error;
    host.warning(
      `cancelled during the scale-down delay: ${name} stays up; a later promote or rollback handles it`,
    );
    return;
  }
  await clock.run(`scale down ${color}`, async () => {
    await scaleColor(context, app, color, 0);
    await waitForScaledDown({ ...context, deadline: Date.now() + 120_000 }, app, color);
  });
}

/** Where the release to promote comes from: another environment's record (maybe in another cluster). */
export interface SourceEnvironment {
  kube: Kube;
  namespace: string;
  environment: string;
}

export interface EnvironmentPromotionOptions extends PromoteOptions {
  from: SourceEnvironment;
  /** Renders this environment's objects from the chart at the version the source runs (its own values). */
  render: (chart: { name: string; version: string } | undefined) => Promise<SourcedObject[]>;
}

/** What environment promotion does, decided from both records. */
export type EnvironmentDecision =
  | { kind: 'ship'; source: ReleaseRevision; images: string[] }
  | { kind: 'nothing'; active: ReleaseRevision; source: ReleaseRevision }
  | { kind: 'refuse'; reason: string; hint: string };

/**
 * Decides an environment promotion: ship the source's active revision (its pinned digests and chart version)
 * unless this environment already runs exactly those. Refuses when the source has nothing live, or runs an
 * image without a digest (only digests travel between environments: nothing is rebuilt).
 */
export function decideEnvironmentPromotion(
  source: ReleaseRecord,
  here: ReleaseRecord,
  expectedDigest?: string,
): EnvironmentDecision {
  const live = newest(source, 'active');
  if (!live) {
    return {
      kind: 'refuse',
      reason: `no revision of ${source.app} is active in ${source.environment}: there is nothing to promote from it`,
      hint: `deploy and promote ${source.app} in ${source.environment} first`,
    };
  }
  const unpinned = live.images.filter((i) => !(i.digest ?? digestOf(i.reference)));
  if (unpinned.length > 0 || live.images.length === 0) {
    return {
      kind: 'refuse',
      reason: `revision ${live.revision} in ${source.environment} runs ${unpinned.map((i) => i.reference).join(', ') || 'no recorded image'} without a digest`,
      hint: 'only digest-pinned releases are promoted between environments; deploy images as name@sha256:...',
    };
  }
  if (expectedDigest?.trim()) {
    const expected = digestOf(expectedDigest);
    const running = live.images.map((i) => i.digest ?? digestOf(i.reference));
    if (!expected || !running.includes(expected)) {
      return {
        kind: 'refuse',
        reason: `${source.environment} runs ${running.join(', ')}, not the expected ${expectedDigest.trim()}`,
        hint: `promote only what was approved: ${source.environment} moved on since the approval, or expected-digest is wrong`,
      };
    }
  }
  const images = live.images.map((i) =>
    digestOf(i.reference) ? i.reference : `${i.repository}@${i.digest ?? ''}`,
  );
  const mine = newest(here, 'active');
  const sameImages = (r: ReleaseRevision) =>
    r.images.length === live.images.length &&
    live.images.every((i) =>
      r.images.some((m) => (m.digest ?? digestOf(m.reference)) === (i.digest ?? digestOf(i.reference))),
    );
  const sameChart = (r: ReleaseRevision) => (r.chart?.version ?? '') === (live.chart?.version ?? '');
  if (mine && sameImages(mine) && sameChart(mine)) return { kind: 'nothing', active: mine, source: live };
  return { kind: 'ship', source: live, images };
}

/**
 * Promotes the release active in another environment into this one: reads the source's record, renders this
 * environment's objects from the chart at the source's chart version, deploys the source's exact digests on the
 * idle colour (deploy-bluegreen's core, under this environment's lock), and promotes them with those digests as
 * the expected ones. A first deploy here goes live at once, as deploy-bluegreen does.
 */
export async function promoteFromEnvironment(options: EnvironmentPromotionOptions): Promise<ReleaseOutcome> {
  const { kube, app, namespace, environment, host, clock, from } = options;
  const [source, here] = await Promise.all([
    readRecord(from.kube, { namespace: from.namespace, app, environment: from.environment }, options.signal),
    readRecord(kube, { namespace, app, environment }, options.signal),
  ]);
  const decision = decideEnvironmentPromotion(source.record, here.record, options.expectedDigest);
  if (decision.kind === 'refuse') {
    throw new GreenlightError({
      what: `promote from ${from.environment}`,
      object: { kind: 'ConfigMap', name: recordName(app, from.environment), namespace: from.namespace },
      reason: decision.reason,
      hint: decision.hint,
    });
  }
  if (decision.kind === 'nothing') {
    const message = `${environment} already runs ${from.environment}'s revision ${decision.source.revision} (here revision ${decision.active.revision} on ${decision.active.color})`;
    host.info(message);
    return {
      action: 'promote',
      activeColor: decision.active.color,
      previousColor: otherColor(decision.active.color),
      revision: decision.active.revision,
      image: imageOf(decision.active),
      rolledBack: false,
      message,
    };
  }
  const { source: shipped, images } = decision;
  host.info(
    `${from.environment} runs revision ${shipped.revision}: ${images.join(', ')}${shipped.chart ? `, chart ${shipped.chart.name} ${shipped.chart.version}` : ''}; shipping it to ${environment}`,
  );
  const objects = await clock.run('render', () => options.render(shipped.chart));
  let outcome: ReleaseOutcome | undefined;
  const result = await deployBlueGreen(
    kube,
    {
      app,
      namespace,
      environment,
      objects,
      images,
      gates: options.gates,
      timeoutMs: options.timeoutMs,
      keepFailed: false,
      holder: holderIdentity(options.env),
      prometheusUrl: options.prometheusUrl,
      origin: {
        appVersion: shipped.appVersion,
        chart: shipped.chart,
        gitSha: shipped.gitSha,
        runUrl: shipped.runUrl,
        actor: shipped.actor,
      },
      promote: async (_deployed, lock) => {
        outcome = await promoteRelease({ ...options, lock, expectedDigest: digestOf(images[0] ?? '') });
      },
    },
    { host, clock, signal: options.signal },
  );
  if (outcome) return { ...outcome, message: `${outcome.message} (from ${from.environment})` };
  const revision = result.release;
  return {
    action: 'promote',
    activeColor: result.color,
    previousColor: result.color ? otherColor(result.color) : undefined,
    revision: result.revision ?? 0,
    image: imageOf(revision),
    rolledBack: false,
    message: `first release in ${environment}: revision ${result.revision} from ${from.environment} went live on ${result.color}`,
  };
}
