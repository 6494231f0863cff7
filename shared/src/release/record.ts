/** A colour of a blue-green pair. */
export type Color = 'blue' | 'green';

/** The other colour. */
export function otherColor(color: Color): Color {
  return color === 'blue' ? 'green' : 'blue';
}

/**
 * Where a revision stands. `candidate`: deployed on the idle colour, maybe ready for promotion; `active`: serving
 * traffic; `previous`: the colour that served before the last promotion, kept for an instant rollback; `failed`:
 * its deploy or verification failed; `retired`: superseded, its workload scaled down or replaced.
 */
export type RevisionStatus = 'candidate' | 'active' | 'previous' | 'failed' | 'retired';

export const REVISION_STATUSES: readonly RevisionStatus[] = [
  'candidate',
  'active',
  'previous',
  'failed',
  'retired',
];

/** One image of a release: the repository and the digest it was pinned to. */
export interface ReleaseImage {
  repository: string;
  digest?: string;
  /** The full reference as deployed (`registry:5000/shop/api@sha256:...`). */
  reference: string;
}

/** A gate's result as kept in the record. */
export interface RecordedGate {
  kind: string;
  name: string;
  passed: boolean;
  detail: string;
  durationMs: number;
}

/** One deploy of the app to the environment. */
export interface ReleaseRevision {
  revision: number;
  color: Color;
  status: RevisionStatus;
  /** The Deployment that runs it (`<app>-<color>`). */
  deployment: string;
  appVersion?: string;
  chart?: { name: string; version: string };
  images: ReleaseImage[];
  gitSha?: string;
  runUrl?: string;
  actor?: string;
  /** ISO timestamps. */
  createdAt: string;
  updatedAt: string;
  promotedAt?: string;
  /** True when every gate passed and it may be promoted. */
  ready: boolean;
  gates: RecordedGate[];
  /** Why it failed or was rolled back, in one line. */
  reason?: string;
  /** A hash of what was deployed (rendered objects and images), so a re-run with the same inputs is recognised. */
  fingerprint?: string;
  /** Replicas the candidate was started with. */
  replicas?: number;
  /**
   * Who made this revision active again by a rollback (the lock holder: workflow run and attempt), while it stays
   * active: a re-run of that same workflow run finds its rollback done instead of rolling back again.
   */
  rolledBackBy?: string;
}

/**
 * A traffic switch under way. Traffic and the record are two objects that no single API call changes together,
 * so the note is written before traffic moves and removed by the write that records the outcome. A note left
 * behind (the job was killed between the two writes, or the second write failed) is settled by the next run
 * from where traffic really goes: see `settleSwitch`.
 */
export interface PendingSwitch {
  /** `promote` (also a first deploy making its colour live) or `rollback`. */
  action: 'promote' | 'rollback';
  /** The revision traffic moves to, and its colour. */
  revision: number;
  color: Color;
  /** The revision that served before, if any. */
  from?: number;
  /** How traffic is routed: the active Service's selector, or Ingress backends on the colour Services. */
  route: 'service' | 'ingress';
  /** Who switched (the lock holder) and when (ISO timestamp). */
  holder: string;
  startedAt: string;
}

/** All revisions of one app in one environment, oldest first. */
export interface ReleaseRecord {
  app: string;
  environment: string;
  namespace: string;
  /** How many revisions are kept; the active, candidate and previous ones are always kept. */
  historyLimit: number;
  revisions: ReleaseRevision[];
  /** A switch of traffic that was started and whose outcome is not recorded yet. */
  switching?: PendingSwitch;
}

export const DEFAULT_HISTORY_LIMIT = 10;

/** An empty record for an app and environment. */
export function emptyRecord(app: string, environment: string, namespace: string): ReleaseRecord {
  return { app, environment, namespace, historyLimit: DEFAULT_HISTORY_LIMIT, revisions: [] };
}

/** The revision serving traffic, if any. */
export function activeRevision(record: ReleaseRecord): ReleaseRevision | undefined {
  return [...record.revisions].reverse().find((r) => r.status === 'active');
}

/** The newest candidate (deployed, not promoted), if any. */
export function candidateRevision(record: ReleaseRecord): ReleaseRevision | undefined {
  return [...record.revisions].reverse().find((r) => r.status === 'candidate');
}

/** The revision kept for rollback (the one active before the last promotion), if any. */
export function previousRevision(record: ReleaseRecord): ReleaseRevision | undefined {
  return [...record.revisions].reverse().find((r) => r.status === 'previous');
}

/** The newest revision of any status. */
export function latestRevision(record: ReleaseRecord): ReleaseRevision | undefined {
  return record.revisions[record.revisions.length - 1];
}

/** The revision with number `revision`. */
export function findRevision(record: ReleaseRecord, revision: number): ReleaseRevision | undefined {
  return record.revisions.find((r) => r.revision === revision);
}

/** The live colour (of the active revision), or undefined before the first promotion. */
export function liveColor(record: ReleaseRecord): Color | undefined {
  return activeRevision(record)?.color;
}

/** The number the next revision gets. */
export function nextRevisionNumber(record: ReleaseRecord): number {
  return record.revisions.reduce((max, r) => Math.max(max, r.revision), 0) + 1;
}

/**
 * Returns a record with `revision` added (or replacing the revision of the same number) and history trimmed:
 * the oldest revisions beyond `historyLimit` go first, except an active, candidate or previous one.
 */
export function putRevision(record: ReleaseRecord, revision: ReleaseRevision): ReleaseRecord {
  const others = record.revisions.filter((r) => r.revision !== revision.revision);
  const revisions = [...others, revision].sort((a, b) => a.revision - b.revision);
  return { ...record, revisions: trimHistory(revisions, record.historyLimit) };
}

/** Returns a record where revision `revision` has `changes` applied and `updatedAt` set to `now`. */
export function updateRevision(
  record: ReleaseRecord,
  revision: number,
  changes: Partial<Omit<ReleaseRevision, 'revision'>>,
  now: Date = new Date(),
): ReleaseRecord {
  const found = findRevision(record, revision);
  if (!found)
    throw new Error(`release record ${record.app}/${record.environment} has no revision ${revision}`);
  return putRevision(record, { ...found, ...changes, updatedAt: now.toISOString() });
}

/**
 * The record once `revision` serves traffic: it turns active (and ready: only proven revisions are switched to),
 * the one active before turns previous, and the one kept as previous before is retired.
 */
export function markActive(record: ReleaseRecord, revision: number, now: Date = new Date()): ReleaseRecord {
  let next = record;
  for (const r of record.revisions) {
    if (r.revision === revision) continue;
    if (r.status === 'active') next = updateRevision(next, r.revision, { status: 'previous' }, now);
    else if (r.status === 'previous') next = updateRevision(next, r.revision, { status: 'retired' }, now);
  }
  return updateRevision(
    next,
    revision,
    {
      status: 'active',
      ready: true,
      promotedAt: now.toISOString(),
      reason: undefined,
      rolledBackBy: undefined,
    },
    now,
  );
}

/** The record with a note that traffic is about to move (replacing any earlier note). */
export function withSwitch(record: ReleaseRecord, note: PendingSwitch): ReleaseRecord {
  return { ...record, switching: note };
}

/** The record without a switch note. */
export function withoutSwitch(record: ReleaseRecord): ReleaseRecord {
  if (!record.switching) return record;
  const { switching: _, ...rest } = record;
  return rest;
}

/** What settling a left switch note did. */
export type SwitchSettlement =
  | { kind: 'none' }
  /** Traffic is on the noted colour: the switch is recorded as done. */
  | { kind: 'completed'; note: PendingSwitch }
  /** Traffic is not on the noted colour (it never moved, or moved back): the note is dropped. */
  | { kind: 'dropped'; note: PendingSwitch; serving: Color | undefined };

/**
 * Settles a switch note from where traffic goes now (`serving`): when it is on the noted colour the switch
 * happened, so the noted revision becomes active (a rollback also keeps its reason); otherwise the note is
 * dropped and the revisions stay as they were. Pure: the record it returns has no note.
 */
export function settleSwitch(
  record: ReleaseRecord,
  serving: Color | undefined,
  now: Date = new Date(),
): { record: ReleaseRecord; settlement: SwitchSettlement } {
  const note = record.switching;
  if (!note) return { record, settlement: { kind: 'none' } };
  const base = withoutSwitch(record);
  const target = findRevision(base, note.revision);
  if (serving !== note.color || !target || target.color !== note.color) {
    return { record: base, settlement: { kind: 'dropped', note, serving } };
  }
  if (target.status === 'active') return { record: base, settlement: { kind: 'completed', note } };
  let next = markActive(base, note.revision, now);
  if (note.action === 'rollback') {
    next = updateRevision(next, note.revision, { rolledBackBy: note.holder }, now);
    if (note.from !== undefined && findRevision(next, note.from)) {
      next = updateRevision(
        next,
        note.from,
        { reason: `rolled back to revision ${note.revision} by ${note.holder}` },
        now,
      );
    }
  }
  return { record: next, settlement: { kind: 'completed', note } };
}

/** One line on a settlement, for the log. */
export function describeSettlement(settlement: SwitchSettlement): string {
  if (settlement.kind === 'none') return '';
  const { note } = settlement;
  const what = `the ${note.action} to revision ${note.revision} on ${note.color} that ${note.holder} started at ${note.startedAt}`;
  if (settlement.kind === 'completed') {
    return `${what} was left unrecorded; traffic is on ${note.color}, so it is now recorded as active`;
  }
  return `${what} was left unrecorded; traffic is on ${settlement.serving ?? 'no colour'}, not ${note.color}, so its note is dropped`;
}

const KEPT: readonly RevisionStatus[] = ['active', 'candidate', 'previous'];

function trimHistory(revisions: ReleaseRevision[], limit: number): ReleaseRevision[] {
  let excess = revisions.length - Math.max(limit, 1);
  if (excess <= 0) return revisions;
  return revisions.filter((r) => {
    if (excess > 0 && !KEPT.includes(r.status)) {
      excess--;
      return false;
    }
    return true;
  });
}

/** The key of the ConfigMap data that holds the record as JSON. */
export const RECORD_KEY = 'release.json';
const SCHEMA = 'greenlight.dev/release-record/v1';

/** The ConfigMap name of the record: `greenlight-release-<app>-<environment>`. */
export function recordName(app: string, environment: string): string {
  return `greenlight-release-${app}-${environment}`;
}

/** The labels of the record's ConfigMap, so `audit` and people can find every record. */
export function recordLabels(app: string, environment: string): Record<string, string> {
  return {
    'greenlight.dev/app': app,
    'greenlight.dev/environment': environment,
    'app.kubernetes.io/managed-by': 'greenlight',
  };
}

/** Encodes a record as ConfigMap data: the JSON document, and a few plain keys for `kubectl get -o yaml` readers. */
export function encodeRecord(record: ReleaseRecord): Record<string, string> {
  const active = activeRevision(record);
  const candidate = candidateRevision(record);
  const data: Record<string, string> = {
    [RECORD_KEY]: `${JSON.stringify({ schema: SCHEMA, ...record }, null, 2)}\n`,
  };
  if (active) {
    data['active-color'] = active.color;
    data['active-revision'] = String(active.revision);
  }
  if (candidate) {
    data['candidate-color'] = candidate.color;
    data['candidate-revision'] = String(candidate.revision);
  }
  if (record.switching)
    data['switching-to'] = `${record.switching.color} (revision ${record.switching.revision})`;
  return data;
}

/** A record that cannot be read; says which field is wrong. */
export class RecordFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecordFormatError';
  }
}

/** Decodes ConfigMap data written by `encodeRecord`; throws RecordFormatError naming what is wrong. */
export function decodeRecord(data: Record<string, string> | undefined): ReleaseRecord {
  const text = data?.[RECORD_KEY];
  if (text === undefined) throw new RecordFormatError(`the key "${RECORD_KEY}" is missing`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new RecordFormatError(`"${RECORD_KEY}" is not JSON: ${(error as Error).message}`);
  }
  if (!isObject(parsed)) throw new RecordFormatError(`"${RECORD_KEY}" is not a JSON object`);
  if (parsed.schema !== SCHEMA) {
    throw new RecordFormatError(`unknown schema ${JSON.stringify(parsed.schema)} (expected "${SCHEMA}")`);
  }
  const app = requireString(parsed, 'app');
  const environment = requireString(parsed, 'environment');
  const namespace = requireString(parsed, 'namespace');
  const historyLimit = typeof parsed.historyLimit === 'number' ? parsed.historyLimit : DEFAULT_HISTORY_LIMIT;
  if (!Array.isArray(parsed.revisions)) throw new RecordFormatError('"revisions" is not a list');
  const revisions = parsed.revisions.map((value, index) => decodeRevision(value, index));
  const record: ReleaseRecord = { app, environment, namespace, historyLimit, revisions };
  if (parsed.switching !== undefined) record.switching = decodeSwitch(parsed.switching);
  return record;
}

function decodeRevision(value: unknown, index: number): ReleaseRevision {
  const where = `revisions[${index}]`;
  if (!isObject(value)) throw new RecordFormatError(`${where} is not an object`);
  if (typeof value.revision !== 'number' || !Number.isInteger(value.revision)) {
    throw new RecordFormatError(`${where}.revision is not a whole number`);
  }
  if (value.color !== 'blue' && value.color !== 'green') {
    throw new RecordFormatError(`${where}.color must be blue or green, got ${JSON.stringify(value.color)}`);
  }
  if (!REVISION_STATUSES.includes(value.status as RevisionStatus)) {
    throw new RecordFormatError(`${where}.status is not one of ${REVISION_STATUSES.join(', ')}`);
  }
  requireString(value, 'deployment', where);
  requireString(value, 'createdAt', where);
  requireString(value, 'updatedAt', where);
  if (!Array.isArray(value.images)) throw new RecordFormatError(`${where}.images is not a list`);
  if (!Array.isArray(value.gates)) throw new RecordFormatError(`${where}.gates is not a list`);
  return { ...(value as unknown as ReleaseRevision), ready: value.ready === true };
}

function decodeSwitch(value: unknown): PendingSwitch {
  if (!isObject(value)) throw new RecordFormatError('switching is not an object');
  if (value.action !== 'promote' && value.action !== 'rollback') {
    throw new RecordFormatError(
      `switching.action must be promote or rollback, got ${JSON.stringify(value.action)}`,
    );
  }
  if (typeof value.revision !== 'number' || !Number.isInteger(value.revision)) {
    throw new RecordFormatError('switching.revision is not a whole number');
  }
  if (value.color !== 'blue' && value.color !== 'green') {
    throw new RecordFormatError(`switching.color must be blue or green, got ${JSON.stringify(value.color)}`);
  }
  if (value.route !== 'service' && value.route !== 'ingress') {
    throw new RecordFormatError(
      `switching.route must be service or ingress, got ${JSON.stringify(value.route)}`,
    );
  }
  if (value.from !== undefined && (typeof value.from !== 'number' || !Number.isInteger(value.from))) {
    throw new RecordFormatError('switching.from is not a whole number');
  }
  requireString(value, 'holder', 'switching');
  requireString(value, 'startedAt', 'switching');
  return value as unknown as PendingSwitch;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function requireString(value: Record<string, unknown>, key: string, where = 'record'): string {
  const field = value[key];
  if (typeof field !== 'string' || field === '') {
    throw new RecordFormatError(`${where}.${key} is missing or not a string`);
  }
  return field;
}
