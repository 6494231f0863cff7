import { describe, expect, it } from 'vitest';
import {
  activeRevision,
  candidateRevision,
  decodeRecord,
  emptyRecord,
  encodeRecord,
  liveColor,
  nextRevisionNumber,
  otherColor,
  putRevision,
  RECORD_KEY,
  RecordFormatError,
  type ReleaseRevision,
  updateRevision,
} from '../../src/release/record.ts';

function revision(
  n: number,
  status: ReleaseRevision['status'],
  color: ReleaseRevision['color'],
): ReleaseRevision {
  return {
    revision: n,
    color,
    status,
    deployment: `api-${color}`,
    images: [
      {
        repository: 'registry:5000/shop/api',
        digest: `sha256:${String(n).padStart(64, '0')}`,
        reference: 'x',
      },
    ],
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ready: status !== 'failed',
    gates: [],
  };
}

describe('release record', () => {
  it('round-trips through ConfigMap data', () => {
    let record = emptyRecord('api', 'staging', 'shop');
    record = putRevision(record, revision(1, 'active', 'blue'));
    record = putRevision(record, revision(2, 'candidate', 'green'));
    const data = encodeRecord(record);
    expect(data['active-color']).toBe('blue');
    expect(data['candidate-revision']).toBe('2');
    expect(decodeRecord(data)).toEqual(record);
  });

  it('finds the live colour, the candidate and the next revision number', () => {
    let record = emptyRecord('api', 'staging', 'shop');
    expect(liveColor(record)).toBeUndefined();
    expect(nextRevisionNumber(record)).toBe(1);
    record = putRevision(record, revision(1, 'previous', 'blue'));
    record = putRevision(record, revision(2, 'active', 'green'));
    record = putRevision(record, revision(3, 'candidate', 'blue'));
    expect(liveColor(record)).toBe('green');
    expect(activeRevision(record)?.revision).toBe(2);
    expect(candidateRevision(record)?.revision).toBe(3);
    expect(nextRevisionNumber(record)).toBe(4);
    expect(otherColor('green')).toBe('blue');
  });

  it('trims history beyond the limit but keeps active, candidate and previous revisions', () => {
    let record = { ...emptyRecord('api', 'staging', 'shop'), historyLimit: 3 };
    record = putRevision(record, revision(1, 'previous', 'blue'));
    record = putRevision(record, revision(2, 'failed', 'green'));
    record = putRevision(record, revision(3, 'retired', 'green'));
    record = putRevision(record, revision(4, 'active', 'green'));
    record = putRevision(record, revision(5, 'candidate', 'blue'));
    expect(record.revisions.map((r) => r.revision)).toEqual([1, 4, 5]);
  });

  it('updates a revision in place and stamps updatedAt', () => {
    let record = putRevision(emptyRecord('api', 'staging', 'shop'), revision(1, 'candidate', 'blue'));
    record = updateRevision(
      record,
      1,
      { status: 'failed', reason: 'crash loop' },
      new Date('2026-02-02T00:00:00Z'),
    );
    expect(record.revisions).toHaveLength(1);
    expect(record.revisions[0]).toMatchObject({
      status: 'failed',
      reason: 'crash loop',
      updatedAt: '2026-02-02T00:00:00.000Z',
    });
    expect(() => updateRevision(record, 9, {})).toThrow(/no revision 9/);
  });

  it.each([
    [{}, /key "release.json" is missing/],
    [{ [RECORD_KEY]: '{nope' }, /not JSON/],
    [{ [RECORD_KEY]: '{"schema":"other"}' }, /unknown schema/],
    [
      {
        [RECORD_KEY]: JSON.stringify({
          schema: 'greenlight.dev/release-record/v1',
          app: 'api',
          environment: 'staging',
          namespace: 'shop',
          revisions: [{ revision: 1, color: 'purple' }],
        }),
      },
      /revisions\[0\]\.color must be blue or green/,
    ],
  ])('names what is wrong in an unreadable record (%#)', (data, message) => {
    expect(() => decodeRecord(data as Record<string, string>)).toThrow(RecordFormatError);
    expect(() => decodeRecord(data as Record<string, string>)).toThrow(message);
  });
});
