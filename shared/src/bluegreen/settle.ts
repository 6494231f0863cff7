// The switch note: written before traffic moves, cleared with the outcome, settled by the next run when left.
import {
  describeSettlement,
  type PendingSwitch,
  type ReleaseRecord,
  type SwitchSettlement,
  settleSwitch,
  withoutSwitch,
  withSwitch,
} from '../release/record.ts';
import { type RecordKey, readRecord, updateRecord } from '../release/store.ts';
import { describeError } from '../runtime/errors.ts';
import type { SwitchContext } from './switch.ts';
import { trafficColor } from './traffic.ts';

/** How long a write that settles a switch may take once the run was cancelled. */
export const SETTLE_AFTER_CANCEL_MS = 5_000;

/** A release record read under the lock, with the note an earlier run left settled. */
export interface SettledRecord {
  record: ReleaseRecord;
  settlement: SwitchSettlement;
}

/**
 * Reads the release record; when an earlier run left a switch note, reads where traffic goes and settles it
 * (completed or dropped, see `settleSwitch`) in one conditional write, and says so in the log. Call it under the
 * app's lock.
 */
export async function readSettledRecord(context: SwitchContext, key: RecordKey): Promise<SettledRecord> {
  const { record } = await readRecord(context.kube, key, context.signal);
  if (!record.switching) return { record, settlement: { kind: 'none' } };
  return settleNote(context, key, record.switching);
}

async function settleNote(
  context: SwitchContext,
  key: RecordKey,
  note: PendingSwitch,
): Promise<SettledRecord> {
  const serving = await trafficColor(context, key.app, note.route);
  let settlement: SwitchSettlement = { kind: 'none' };
  const record = await updateRecord(
    context.kube,
    key,
    (current) => {
      const settled = settleSwitch(current, serving);
      settlement = settled.settlement;
      return settled.record;
    },
    context.signal,
  );
  if (settlement.kind !== 'none') context.host.info(`Release record: ${describeSettlement(settlement)}.`);
  return { record, settlement };
}

/** Writes the note that traffic is about to move. When this write fails, nothing moves. */
export async function noteSwitch(
  context: SwitchContext,
  key: RecordKey,
  note: Omit<PendingSwitch, 'startedAt'>,
): Promise<void> {
  await updateRecord(
    context.kube,
    key,
    (record) => withSwitch(record, { ...note, startedAt: new Date().toISOString() }),
    context.signal,
  );
}

/**
 * Records a switch's outcome: `change` applied to the record, and the note removed, in one write. When the run
 * was cancelled before or during the write, it is tried once more with a short deadline of its own, so a
 * verified switch is not left unrecorded by a cancel that came a moment too late.
 */
export async function recordSwitchOutcome(
  context: SwitchContext,
  key: RecordKey,
  change: (record: ReleaseRecord) => ReleaseRecord,
): Promise<ReleaseRecord> {
  const write = (signal: AbortSignal | undefined) =>
    updateRecord(context.kube, key, (record) => withoutSwitch(change(record)), signal);
  try {
    return await write(context.signal);
  } catch (error) {
    if (!context.signal?.aborted) throw error;
    return write(AbortSignal.timeout(SETTLE_AFTER_CANCEL_MS));
  }
}

/**
 * After a failed or cancelled switch: settles the run's own note from where traffic ended up, with a short
 * deadline of its own. Never throws: when it cannot, the note stays for the next run to settle, and it says so.
 */
export async function settleAfterFailure(context: SwitchContext, key: RecordKey): Promise<void> {
  const own = { ...context, signal: AbortSignal.timeout(SETTLE_AFTER_CANCEL_MS) };
  try {
    const { record } = await readRecord(own.kube, key, own.signal);
    if (record.switching) await settleNote(own, key, record.switching);
  } catch (error) {
    context.host.warning(
      `the release record still notes a switch in progress (${describeError(error)}); the next deploy, promote, rollback or abort settles it from where traffic goes`,
    );
  }
}
