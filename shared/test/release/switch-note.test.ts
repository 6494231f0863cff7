// The switch note: written before traffic moves, removed by the write that records the outcome, and settled by
// the next run from where traffic goes when an interrupted run left it behind.
import { describe, expect, it } from 'vitest';
import {
  activeRevision,
  type Color,
  decodeRecord,
  describeSettlement,
  emptyRecord,
  encodeRecord,
  type PendingSwitch,
  previousRevision,
  putRevision,
  RecordFormatError,
  type ReleaseRecord,
  type ReleaseRevision,
  settleSwitch,
  withoutSwitch,
  withSwitch,
} from '../../src/release/record.ts';

const NOW = new Date('2026-12-06T10:00:00.000Z');

function revision(n: number, status: ReleaseRevision['status'], color: Color): ReleaseRevision {
  return {
    revision: n,
    color,
    status,
    deployment: `api-${color}`,
    images: [
      { repository: 'r/api', digest: `sha256:${String(n).padStart(64, '0')}`, reference: `r/api@${n}` },
    ],
    createdAt: '2026-12-01T00:00:00.000Z',
    updatedAt: '2026-12-01T00:00:00.000Z',
    ready: status !== 'failed',
    gates: [],
  };
}

function record(...revisions: ReleaseRevision[]): ReleaseRecord {
  return revisions.reduce(putRevision, emptyRecord('api', 'prod', 'shop'));
}

function note(action: PendingSwitch['action'], to: number, color: Color, from?: number): PendingSwitch {
  return {
    action,
    revision: to,
    color,
    from,
    route: 'service',
    holder: 'github:shop/api/runs/9/attempts/1',
    startedAt: '2026-12-06T09:59:00.000Z',
  };
}

// blue (1) live, green (2) the candidate a promote was switching to.
const promoting = withSwitch(
  record(revision(1, 'active', 'blue'), revision(2, 'candidate', 'green')),
  note('promote', 2, 'green', 1),
);
// green (2) live after a bad promotion, blue (1) kept: a rollback was switching back to it.
const rollingBack = withSwitch(
  record(revision(1, 'previous', 'blue'), revision(2, 'active', 'green')),
  note('rollback', 1, 'blue', 2),
);
// Nothing live yet: a first deploy was making blue (1) live.
const activating = withSwitch(
  record({ ...revision(1, 'candidate', 'blue'), ready: false }),
  note('promote', 1, 'blue'),
);

describe('settleSwitch', () => {
  it.each([
    ['promote, traffic on the candidate', promoting, 'green', 'completed', { active: 2, previous: 1 }],
    ['promote, traffic never moved', promoting, 'blue', 'dropped', { active: 1, previous: undefined }],
    [
      'promote, the active Service selects no colour',
      promoting,
      undefined,
      'dropped',
      { active: 1, previous: undefined },
    ],
    [
      'rollback, traffic back on the old release',
      rollingBack,
      'blue',
      'completed',
      { active: 1, previous: 2 },
    ],
    [
      'rollback, traffic still on the new release',
      rollingBack,
      'green',
      'dropped',
      { active: 2, previous: 1 },
    ],
    [
      'first deploy, the Service selects it',
      activating,
      'blue',
      'completed',
      { active: 1, previous: undefined },
    ],
    [
      'first deploy, no Service yet',
      activating,
      undefined,
      'dropped',
      { active: undefined, previous: undefined },
    ],
  ] as const)('%s: %s', (_name, before, serving, kind, expected) => {
    const { record: after, settlement } = settleSwitch(before, serving, NOW);
    expect(settlement.kind).toBe(kind);
    expect(after.switching).toBeUndefined();
    expect(activeRevision(after)?.revision).toBe(expected.active);
    expect(previousRevision(after)?.revision).toBe(expected.previous);
    if (kind === 'completed') expect(activeRevision(after)?.color).toBe(serving);
  });

  it('a completed switch makes the revision active and ready, with the time it was settled', () => {
    const { record: after } = settleSwitch(activating, 'blue', NOW);
    expect(activeRevision(after)).toMatchObject({ revision: 1, ready: true, promotedAt: NOW.toISOString() });
  });

  it('a completed rollback keeps who rolled back, on both releases', () => {
    const { record: after } = settleSwitch(rollingBack, 'blue', NOW);
    expect(activeRevision(after)?.rolledBackBy).toBe('github:shop/api/runs/9/attempts/1');
    expect(after.revisions.find((r) => r.revision === 2)?.reason).toBe(
      'rolled back to revision 1 by github:shop/api/runs/9/attempts/1',
    );
  });

  it('a dropped note leaves every revision as it was', () => {
    const { record: after } = settleSwitch(promoting, 'blue', NOW);
    expect(after.revisions).toEqual(promoting.revisions);
  });

  it('a note whose revision is gone from the record is dropped', () => {
    const orphan = withSwitch(record(revision(1, 'active', 'blue')), note('promote', 5, 'green', 1));
    expect(settleSwitch(orphan, 'green', NOW).settlement.kind).toBe('dropped');
  });

  it('a record without a note is returned as it is', () => {
    const plain = record(revision(1, 'active', 'blue'));
    expect(settleSwitch(plain, 'green', NOW)).toEqual({ record: plain, settlement: { kind: 'none' } });
  });

  it('settling twice changes nothing more (a re-run after the settling write)', () => {
    const once = settleSwitch(promoting, 'green', NOW).record;
    expect(settleSwitch(once, 'green', NOW)).toEqual({ record: once, settlement: { kind: 'none' } });
  });

  it('says in one line what it did', () => {
    expect(describeSettlement(settleSwitch(promoting, 'green', NOW).settlement)).toMatch(
      /promote to revision 2 on green .* traffic is on green, so it is now recorded as active/,
    );
    expect(describeSettlement(settleSwitch(promoting, 'blue', NOW).settlement)).toMatch(
      /traffic is on blue, not green, so its note is dropped/,
    );
  });
});

describe('the note in the stored record', () => {
  it('survives an encode and decode, and shows as a plain key', () => {
    const data = encodeRecord(promoting);
    expect(data['switching-to']).toBe('green (revision 2)');
    expect(decodeRecord(data).switching).toEqual(promoting.switching);
  });

  it('is gone after withoutSwitch, and so is the plain key', () => {
    const data = encodeRecord(withoutSwitch(promoting));
    expect(data['switching-to']).toBeUndefined();
    expect(decodeRecord(data).switching).toBeUndefined();
  });

  it.each([
    ['an unknown action', { action: 'flip' }, /switching.action must be promote or rollback/],
    ['a colour that is not one', { color: 'red' }, /switching.color must be blue or green/],
    ['a revision that is not a whole number', { revision: 1.5 }, /switching.revision is not a whole number/],
    ['an unknown route', { route: 'dns' }, /switching.route must be service or ingress/],
    ['no holder', { holder: '' }, /switching.holder is missing/],
  ])('is refused with %s', (_name, change, message) => {
    const data = encodeRecord(promoting);
    const parsed = JSON.parse(data['release.json'] as string);
    parsed.switching = { ...parsed.switching, ...change };
    const decode = () => decodeRecord({ 'release.json': JSON.stringify(parsed) });
    expect(decode).toThrow(RecordFormatError);
    expect(decode).toThrow(message);
  });
});
