import { describe, expect, it } from 'vitest';
import { GreenlightError } from '../../src/runtime/errors.ts';
import {
  addRelease,
  emptyReleaseMap,
  findRelease,
  parseReleaseMap,
  type ReleaseMapping,
  releasesOfChart,
  serializeReleaseMap,
  stableJson,
  validateReleaseMapping,
} from '../../src/version/release-map.ts';
import { Random } from './random.ts';

const digest = (c: string) => `sha256:${c.repeat(64)}`;
const sha = (c: string) => c.repeat(40);

function release(app: string, chart: string, c = 'a'): ReleaseMapping {
  return {
    app: { name: 'shop', version: app },
    chart: { name: 'shop', version: chart },
    image: { repository: 'ghcr.io/acme/shop', digest: digest(c) },
    git: { sha: sha(c), ref: `refs/tags/v${app}` },
    createdAt: '2026-01-01T00:00:00Z',
  };
}

describe('release map', () => {
  it('keeps releases newest first and serialises to one stable form', () => {
    let map = emptyReleaseMap();
    map = addRelease(map, release('1.2.0', '1.1.0', 'a'));
    map = addRelease(map, release('1.10.0', '1.3.0', 'b'));
    map = addRelease(map, release('1.3.0', '1.1.1', 'c'));
    expect(map.releases.map((r) => r.app.version)).toEqual(['1.10.0', '1.3.0', '1.2.0']);
    const json = serializeReleaseMap(map);
    expect(json.endsWith('\n')).toBe(true);
    expect(JSON.parse(json).releases[0]).toEqual({
      app: { name: 'shop', version: '1.10.0' },
      chart: { name: 'shop', version: '1.3.0' },
      createdAt: '2026-01-01T00:00:00Z',
      git: { ref: 'refs/tags/v1.10.0', sha: sha('b') },
      image: { digest: digest('b'), repository: 'ghcr.io/acme/shop' },
    });
    expect(serializeReleaseMap(parseReleaseMap(json))).toBe(json);
  });

  it('property: the JSON form does not depend on insertion order', () => {
    const random = new Random(5);
    const entries = Array.from({ length: 12 }, (_, i) =>
      release(`1.${i}.${random.int(0, 9)}`, `0.${i}.0`, 'abcdef0123456789'[i] as string),
    );
    const expected = serializeReleaseMap(entries.reduce((map, r) => addRelease(map, r), emptyReleaseMap()));
    for (let round = 0; round < 20; round++) {
      const shuffled = [...entries].sort(() => random.next() - 0.5);
      const map = shuffled.reduce((acc, r) => addRelease(acc, r), emptyReleaseMap());
      expect(serializeReleaseMap(map)).toBe(expected);
    }
  });

  it('finds releases by app version and by chart version', () => {
    const map = [release('1.2.0', '1.1.0', 'a'), release('1.2.1', '1.1.0', 'b')].reduce(
      (acc, r) => addRelease(acc, r),
      emptyReleaseMap(),
    );
    expect(findRelease(map, 'shop', 'v1.2.0')?.image.digest).toBe(digest('a'));
    expect(findRelease(map, 'shop', '9.9.9')).toBeUndefined();
    expect(releasesOfChart(map, 'shop', '1.1.0').map((r) => r.app.version)).toEqual(['1.2.1', '1.2.0']);
  });

  it('accepts the same release twice, refuses a changed one unless asked to replace it', () => {
    const map = addRelease(emptyReleaseMap(), release('1.2.0', '1.1.0', 'a'));
    expect(addRelease(map, release('1.2.0', '1.1.0', 'a')).releases).toHaveLength(1);
    expect(() => addRelease(map, release('1.2.0', '1.1.0', 'b'))).toThrow(
      'shop 1.2.0 is already recorded with chart 1.1.0',
    );
    expect(addRelease(map, release('1.2.0', '1.1.0', 'b'), { replace: true }).releases[0]?.image.digest).toBe(
      digest('b'),
    );
  });

  it('cleans versions written with v', () => {
    const entry = validateReleaseMapping({
      ...release('1.0.0', '1.0.0'),
      app: { name: 'shop', version: 'v1.0.0' },
    });
    expect(entry.app.version).toBe('1.0.0');
  });

  it.each<[string, unknown, string]>([
    ['not JSON', '{', 'JSON:'],
    ['wrong schema', { schemaVersion: 2, releases: [] }, 'schemaVersion: must be 1, found 2'],
    ['no list', { schemaVersion: 1, releases: {} }, 'releases: must be a list'],
    ['an entry not an object', { schemaVersion: 1, releases: [1] }, 'releases[0]: must be an object'],
    [
      'missing app',
      { schemaVersion: 1, releases: [{ ...release('1.0.0', '1.0.0'), app: undefined }] },
      'releases[0].app: must be an object',
    ],
    [
      'bad app version',
      { schemaVersion: 1, releases: [release('1.0', '1.0.0')] },
      'releases[0].app.version: "1.0" has 2 numbers',
    ],
    [
      'bad chart version',
      { schemaVersion: 1, releases: [release('1.0.0', 'x')] },
      'releases[0].chart.version',
    ],
    [
      'empty name',
      {
        schemaVersion: 1,
        releases: [{ ...release('1.0.0', '1.0.0'), chart: { name: '', version: '1.0.0' } }],
      },
      'releases[0].chart.name: must be a non-empty string',
    ],
    [
      'bad digest',
      {
        schemaVersion: 1,
        releases: [
          { ...release('1.0.0', '1.0.0'), image: { repository: 'ghcr.io/a/b', digest: 'sha256:abc' } },
        ],
      },
      'releases[0].image.digest',
    ],
    [
      'repository with a tag',
      {
        schemaVersion: 1,
        releases: [
          { ...release('1.0.0', '1.0.0'), image: { repository: 'ghcr.io/a/b:1', digest: digest('a') } },
        ],
      },
      'must be a repository without tag or digest',
    ],
    [
      'bad repository',
      {
        schemaVersion: 1,
        releases: [{ ...release('1.0.0', '1.0.0'), image: { repository: 'ghcr.io/A', digest: digest('a') } }],
      },
      'releases[0].image.repository: image reference',
    ],
    [
      'short sha',
      { schemaVersion: 1, releases: [{ ...release('1.0.0', '1.0.0'), git: { sha: 'abc1234' } }] },
      'releases[0].git.sha: "abc1234" is not a full commit id',
    ],
    [
      'bad date',
      { schemaVersion: 1, releases: [{ ...release('1.0.0', '1.0.0'), createdAt: 'yesterday' }] },
      'releases[0].createdAt: "yesterday" is not an ISO date-time',
    ],
    [
      'duplicate',
      { schemaVersion: 1, releases: [release('1.0.0', '1.0.0'), release('1.0.0', '1.0.1')] },
      'releases[1]: shop 1.0.0 appears twice',
    ],
  ])('rejects %s', (_name, value, message) => {
    const json = typeof value === 'string' ? value : JSON.stringify(value);
    expect(() => parseReleaseMap(json)).toThrow(GreenlightError);
    expect(() => parseReleaseMap(json)).toThrow(message);
  });

  it('sorts keys at every level and drops undefined fields in stableJson', () => {
    expect(stableJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: undefined } })).toBe(
      '{\n  "a": {\n    "d": [\n      {\n        "y": 2,\n        "z": 1\n      }\n    ]\n  },\n  "b": 1\n}\n',
    );
  });
});
