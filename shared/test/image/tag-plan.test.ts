import { describe, expect, it } from 'vitest';
import { isReleaseTag, overwriteRefusal, planTags } from '../../src/image/tag-plan.ts';

const OLD = `sha256:${'1'.repeat(64)}`;
const NEW = `sha256:${'2'.repeat(64)}`;

describe('isReleaseTag', () => {
  it.each([
    ['1.2.3', true],
    ['v1.2.3', true],
    ['1.3.0-rc.2', true],
    ['1.2.3+build.7', true],
    ['0.0.1', true],
    ['1.2', false],
    ['1', false],
    ['latest', false],
    ['main', false],
    ['rc', false],
    ['sha-0123abc', false],
    ['pr-7', false],
    ['01.2.3', false],
  ])('%s -> %s', (tag, release) => {
    expect(isReleaseTag(tag)).toBe(release);
  });
});

describe('planTags', () => {
  const cases: {
    name: string;
    tags: string[];
    current: Record<string, string>;
    overwrite: boolean;
    write: string[];
    unchanged: string[];
    conflicts: string[];
  }[] = [
    {
      name: 'new tags are all written',
      tags: ['1.2.3', '1.2', '1', 'latest'],
      current: {},
      overwrite: false,
      write: ['1.2.3', '1.2', '1', 'latest'],
      unchanged: [],
      conflicts: [],
    },
    {
      name: 'moving tags move',
      tags: ['main', 'latest', '1.2', 'rc'],
      current: { main: OLD, latest: OLD, '1.2': OLD, rc: OLD },
      overwrite: false,
      write: ['main', 'latest', '1.2', 'rc'],
      unchanged: [],
      conflicts: [],
    },
    {
      name: 'a release tag on another digest is refused',
      tags: ['1.2.3', '1.2', 'latest'],
      current: { '1.2.3': OLD, latest: OLD },
      overwrite: false,
      write: ['1.2', 'latest'],
      unchanged: [],
      conflicts: ['1.2.3'],
    },
    {
      name: 'overwrite writes the conflicting release tag too',
      tags: ['1.2.3', 'latest'],
      current: { '1.2.3': OLD },
      overwrite: true,
      write: ['1.2.3', 'latest'],
      unchanged: [],
      conflicts: ['1.2.3'],
    },
    {
      name: 'a re-run with the same digest is not a conflict',
      tags: ['1.2.3', 'sha-abc1234'],
      current: { '1.2.3': NEW, 'sha-abc1234': NEW },
      overwrite: false,
      write: ['1.2.3', 'sha-abc1234'],
      unchanged: ['1.2.3', 'sha-abc1234'],
      conflicts: [],
    },
    {
      name: 'pre-releases are release tags',
      tags: ['1.3.0-rc.2', 'rc'],
      current: { '1.3.0-rc.2': OLD, rc: OLD },
      overwrite: false,
      write: ['rc'],
      unchanged: [],
      conflicts: ['1.3.0-rc.2'],
    },
    {
      name: 'duplicates are planned once',
      tags: ['main', 'main'],
      current: {},
      overwrite: false,
      write: ['main'],
      unchanged: [],
      conflicts: [],
    },
  ];
  it.each(cases)('$name', (c) => {
    const plan = planTags(c.tags, new Map(Object.entries(c.current)), NEW, c.overwrite);
    expect(plan.write).toEqual(c.write);
    expect(plan.unchanged).toEqual(c.unchanged);
    expect(plan.conflicts.map((x) => x.tag)).toEqual(c.conflicts);
    for (const conflict of plan.conflicts) expect(conflict).toMatchObject({ existing: OLD, incoming: NEW });
  });
});

describe('overwriteRefusal', () => {
  it('names the repository, the tag and both digests, and says nothing was tagged', () => {
    const error = overwriteRefusal('127.0.0.1:5000/shop/api', [
      { tag: '1.2.3', existing: OLD, incoming: NEW },
    ]);
    expect(error.message).toContain('127.0.0.1:5000/shop/api');
    expect(error.message).toContain(`1.2.3 points to ${OLD}, this run built ${NEW}`);
    expect(error.message).toContain('overwrite: true');
    expect(error.message).toContain('Nothing was tagged');
  });
});
