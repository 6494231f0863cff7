import { holderIdentity } from '../kube/lock.ts';
import {
  activeRevision,
  candidateRevision,
  otherColor,
  type ReleaseRecord,
  type ReleaseRevision,
  updateRevision,
} from '../release/record.ts';
import { type RecordKey, updateRecord } from '../release/store.ts';
import { GreenlightError } from '../runtime/errors.ts';
import {
  imageOf,
  type ReleaseOutcome,
  type ReleaseTarget,
  type RunContext,
  withReleaseLock,
} from './promote.ts';
import { colorDeployment, readColorDeployment, scaleColor } from './rollback.ts';
import { readSettledRecord } from './settle.ts';
import { activeServiceName, type SwitchContext } from './switch.ts';
import { trafficColor } from './traffic.ts';

export interface AbortOptions extends ReleaseTarget, RunContext {
  route: 'service' | 'ingress';
  timeoutMs: number;
}

/** What an abort does, decided from the record and the colour the active Service selects now. */
export type AbortDecision =
  | { kind: 'abort'; candidate: ReleaseRevision }
  | { kind: 'nothing'; reason: string }
  | { kind: 'refuse'; reason: string; hint: string };

/**
 * Decides an abort: discard the newest candidate, unless traffic already goes to its colour (an interrupted
 * promote), which only a rollback or a promote may settle. No candidate: nothing to do.
 */
export function decideAbort(record: ReleaseRecord, servingColor: string | undefined): AbortDecision {
  const candidate = candidateRevision(record);
  if (!candidate) {
    return {
      kind: 'nothing',
      reason: `${record.app} has no candidate in ${record.environment}: nothing to abort`,
    };
  }
  const active = activeRevision(record);
  if (servingColor === candidate.color && active) {
    return {
      kind: 'refuse',
      reason: `the active Service already sends traffic to the candidate's colour ${candidate.color} (an interrupted promote)`,
      hint: `run promote to finish it, or rollback to return to revision ${active.revision}; abort never touches live traffic`,
    };
  }
  return { kind: 'abort', candidate };
}

/** The record once `revision` is discarded: retired, with the reason. */
export function markAborted(
  record: ReleaseRecord,
  revision: number,
  reason: string,
  now: Date = new Date(),
): ReleaseRecord {
  return updateRevision(record, revision, { status: 'retired', ready: false, reason }, now);
}

/**
 * Discards the candidate: under the lock, scales its Deployment to zero and records why; the live colour and
 * the active Service are left exactly as they are.
 */
export async function abortRelease(options: AbortOptions): Promise<ReleaseOutcome> {
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
    const decision = decideAbort(record, await trafficColor(context, app, options.route));
    const active = activeRevision(record);
    const base: ReleaseOutcome = {
      action: 'abort',
      activeColor: active?.color,
      previousColor: active ? otherColor(active.color) : undefined,
      revision: active?.revision ?? 0,
      image: imageOf(active),
      rolledBack: false,
      message: '',
    };
    if (decision.kind === 'refuse') {
      throw new GreenlightError({
        what: 'abort',
        object: { kind: 'Service', name: activeServiceName(app), namespace },
        reason: decision.reason,
        hint: decision.hint,
      });
    }
    if (decision.kind === 'nothing') {
      host.info(decision.reason);
      return { ...base, message: decision.reason };
    }
    const { candidate } = decision;
    const deployment = await readColorDeployment(context, app, candidate.color);
    if (deployment && (deployment.spec?.replicas ?? 0) > 0) {
      await clock.run(`scale down ${candidate.color}`, () => scaleColor(context, app, candidate.color, 0));
    } else {
      clock.skip(`scale down ${candidate.color}`);
      host.info(`${colorDeployment(app, candidate.color)} is already scaled down or gone`);
    }
    const reason = `aborted by ${holderIdentity(options.env)}`;
    await clock.run('record the abort', () =>
      updateRecord(kube, key, (r) => markAborted(r, candidate.revision, reason), signal),
    );
    const message = `candidate revision ${candidate.revision} on ${candidate.color} discarded; ${active ? `revision ${active.revision} on ${active.color} stays live` : 'nothing was live'}`;
    host.info(message);
    return { ...base, message };
  });
}
