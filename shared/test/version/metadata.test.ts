import { describe, expect, it } from 'vitest';
import { GreenlightError } from '../../src/runtime/errors.ts';
import type { GitContext } from '../../src/version/context.ts';
import { computeMetadata, type MetadataRequest, parseImages } from '../../src/version/metadata.ts';
import { Random } from './random.ts';

const SHA = '0123456789abcdef0123456789abcdef01234567';
const HEAD = 'fedcba9876543210fedcba9876543210fedcba98';
const NOW = new Date('2026-03-04T05:06:07Z');

const ctx = {
  branch: (name: string, extra: Partial<GitContext> = {}): GitContext => ({
    eventName: 'push',
    ref: `refs/heads/${name}`,
    sha: SHA,
    defaultBranch: 'main',
    ...extra,
  }),
  tag: (name: string, extra: Partial<GitContext> = {}): GitContext => ({
    eventName: 'push',
    ref: `refs/tags/${name}`,
    sha: SHA,
    defaultBranch: 'main',
    ...extra,
  }),
  pr: (n: number): GitContext => ({
    eventName: 'pull_request',
    ref: `refs/pull/${n}/merge`,
    sha: SHA,
    headSha: HEAD,
    prNumber: n,
    baseRef: 'main',
    headRef: 'feature/x',
    defaultBranch: 'main',
  }),
  schedule: (): GitContext => ({
    eventName: 'schedule',
    ref: 'refs/heads/main',
    sha: SHA,
    defaultBranch: 'main',
  }),
  release: (tag: string, prerelease = false): GitContext => ({
    eventName: 'release',
    ref: `refs/tags/${tag}`,
    sha: SHA,
    release: { tagName: tag, prerelease },
  }),
  dispatch: (inputs: Record<string, string>): GitContext => ({
    eventName: 'workflow_dispatch',
    ref: 'refs/heads/main',
    sha: SHA,
    defaultBranch: 'main',
    inputs,
  }),
};

function compute(tagRules: string[], context: GitContext, extra: Partial<MetadataRequest> = {}) {
  return computeMetadata({ images: [], tagRules, flavor: [], context, now: NOW, ...extra });
}

const SEMVER3 = [
  'type=semver,pattern={{version}}',
  'type=semver,pattern={{major}}.{{minor}}',
  'type=semver,pattern={{major}}',
];

describe('tag rules in metadata-action syntax', () => {
  it.each<[string, string[], GitContext, Partial<MetadataRequest>, string[]]>([
    ['semver on a tag push', SEMVER3, ctx.tag('v1.2.3'), {}, ['1.2.3', '1.2', '1', 'latest']],
    ['semver {{raw}}', ['type=semver,pattern={{raw}}'], ctx.tag('v1.2.3'), {}, ['v1.2.3', 'latest']],
    [
      'semver with a pattern around it',
      ['type=semver,pattern=v{{major}}-stable'],
      ctx.tag('1.2.3'),
      {},
      ['v1-stable', 'latest'],
    ],
    ['semver pre-release keeps the full version only', SEMVER3, ctx.tag('v1.3.0-rc.2'), {}, ['1.3.0-rc.2']],
    [
      'semver pre-release with {{raw}}',
      ['type=semver,pattern={{raw}}'],
      ctx.tag('v1.3.0-rc.2'),
      {},
      ['v1.3.0-rc.2'],
    ],
    ['semver on a branch makes nothing', SEMVER3, ctx.branch('dev'), {}, []],
    ['semver on a tag that is not a version', SEMVER3, ctx.tag('nightly-build'), {}, []],
    [
      'semver with value=',
      ['type=semver,pattern={{major}}.{{minor}},value=v4.5.6'],
      ctx.branch('dev'),
      {},
      ['4.5', 'latest'],
    ],
    ['semver with a bad value=', ['type=semver,pattern={{version}},value=four'], ctx.branch('dev'), {}, []],
    ['ref branch', ['type=ref,event=branch'], ctx.branch('feature/login'), {}, ['feature-login']],
    ['ref tag', ['type=ref,event=tag'], ctx.tag('v1.0.0'), {}, ['v1.0.0', 'latest']],
    ['ref tag with a slash', ['type=ref,event=tag'], ctx.tag('api/v1.0.0'), {}, ['api-v1.0.0', 'latest']],
    ['ref pr', ['type=ref,event=pr'], ctx.pr(7), {}, ['pr-7']],
    ['ref pr with a prefix', ['type=ref,event=pr,prefix=mr-'], ctx.pr(7), {}, ['mr-7']],
    ['ref branch does not fire on a PR', ['type=ref,event=branch'], ctx.pr(7), {}, []],
    ['sha short', ['type=sha'], ctx.branch('main'), {}, ['sha-0123456']],
    ['sha long', ['type=sha,format=long,prefix='], ctx.branch('main'), {}, [SHA]],
    ['sha on a PR is the head commit', ['type=sha'], ctx.pr(7), {}, ['sha-fedcba9']],
    ['raw', ['type=raw,value=stable'], ctx.branch('main'), {}, ['stable']],
    ['a quoted field holds a comma', ['type=raw,"value=a,b"'], ctx.branch('main'), {}, ['a-b']],
    ['a doubled quote in a quoted field', ['type=raw,"value=a""b"'], ctx.branch('main'), {}, ['a-b']],
    ['a bare value is raw', ['canary'], ctx.branch('main'), {}, ['canary']],
    ['raw with an expression', ['type=raw,value={{branch}}-{{sha}}'], ctx.branch('dev'), {}, ['dev-0123456']],
    [
      'raw with a date',
      ["type=raw,value={{date 'YYYYMMDD-HHmm'}}"],
      ctx.branch('main'),
      {},
      ['20260304-0506'],
    ],
    [
      'raw with a date in a zone',
      ["type=raw,value={{date 'YYYY-MM-DD HH' tz='Asia/Tokyo'}}"],
      ctx.branch('main'),
      {},
      ['2026-03-04-14'],
    ],
    ['edge on the default branch', ['type=edge'], ctx.branch('main'), {}, ['edge']],
    ['edge on another branch', ['type=edge'], ctx.branch('dev'), {}, []],
    ['edge with branch=', ['type=edge,branch=dev'], ctx.branch('dev'), {}, ['edge']],
    ['schedule', ['type=schedule'], ctx.schedule(), {}, ['nightly']],
    [
      'schedule with a pattern',
      ["type=schedule,pattern={{date 'YYYYMMDD'}}"],
      ctx.schedule(),
      {},
      ['20260304'],
    ],
    ['schedule outside a schedule', ['type=schedule'], ctx.branch('main'), {}, []],
    ['match a group', ['type=match,pattern=v(\\d+.\\d+),group=1'], ctx.tag('v2.5.1'), {}, ['2.5', 'latest']],
    [
      'match a /regex/flags',
      ['type=match,pattern=/^V(\\d+)/i,group=1'],
      ctx.tag('v2.5.1'),
      {},
      ['2', 'latest'],
    ],
    ['match without a match', ['type=match,pattern=^x'], ctx.tag('v2.5.1'), {}, []],
    ['match with a missing group', ['type=match,pattern=v(\\d)?x|v2,group=1'], ctx.tag('v2.5.1'), {}, []],
    [
      'match on a value',
      ['type=match,pattern=\\d+,value=build-77'],
      ctx.branch('main'),
      {},
      ['77', 'latest'],
    ],
    ['enable=false', ['type=sha,enable=false', 'type=raw,value=x'], ctx.branch('main'), {}, ['x']],
    [
      'enable={{is_default_branch}} on main',
      ['type=raw,value=latest,enable={{is_default_branch}}'],
      ctx.branch('main'),
      {},
      ['latest'],
    ],
    [
      'enable={{is_default_branch}} elsewhere',
      ['type=raw,value=latest,enable={{is_default_branch}}'],
      ctx.branch('dev'),
      {},
      [],
    ],
    [
      'priority reorders',
      ['type=sha', 'type=raw,value=first,priority=2000'],
      ctx.branch('main'),
      {},
      ['first', 'sha-0123456'],
    ],
    ['duplicates are dropped', ['type=raw,value=a', 'type=raw,value=a'], ctx.branch('main'), {}, ['a']],
    ['default rules on a branch', [], ctx.branch('main'), {}, ['main']],
    ['default rules on a tag', [], ctx.tag('v1.0.0'), {}, ['v1.0.0', 'latest']],
    ['default rules on a PR', [], ctx.pr(9), {}, ['pr-9']],
    [
      'flavor prefix and suffix',
      ['type=ref,event=branch'],
      ctx.branch('main'),
      { flavor: ['prefix=app-', 'suffix=-alpine'] },
      ['app-main-alpine'],
    ],
    [
      'rule prefix wins over flavor',
      ['type=sha'],
      ctx.branch('main'),
      { flavor: ['prefix=app-'] },
      ['sha-0123456'],
    ],
    ['latest=false', SEMVER3.slice(0, 1), ctx.tag('v1.0.0'), { flavor: ['latest=false'] }, ['1.0.0']],
    [
      'latest=true on a branch',
      ['type=ref,event=branch'],
      ctx.branch('dev'),
      { flavor: ['latest=true'] },
      ['dev', 'latest'],
    ],
    [
      'latest with prefix onlatest',
      SEMVER3.slice(0, 1),
      ctx.tag('v1.0.0'),
      { flavor: ['prefix=v,onlatest=true', 'suffix=-slim'] },
      ['v1.0.0-slim', 'vlatest'],
    ],
    [
      'no rule produces: no latest even with true',
      ['type=schedule'],
      ctx.branch('dev'),
      { flavor: ['latest=true'] },
      [],
    ],
  ])('%s', (_name, rules, context, extra, expected) => {
    expect(compute(rules, context, extra).tagNames).toEqual(expected);
  });

  it('gives full references for every image, lowercased, and the canonical version', () => {
    const metadata = compute(SEMVER3, ctx.tag('v1.2.3'), {
      images: ['ghcr.io/Acme/Api', 'name=docker.io/acme/api', 'name=x/y,enable=false'],
    });
    expect(metadata.version).toBe('1.2.3');
    expect(metadata.tags).toEqual([
      'ghcr.io/acme/api:1.2.3',
      'ghcr.io/acme/api:1.2',
      'ghcr.io/acme/api:1',
      'ghcr.io/acme/api:latest',
      'docker.io/acme/api:1.2.3',
      'docker.io/acme/api:1.2',
      'docker.io/acme/api:1',
      'docker.io/acme/api:latest',
    ]);
  });
});

describe('Greenlight extensions', () => {
  const rules = [...SEMVER3, 'type=sha'];

  it.each<[string, GitContext, Partial<MetadataRequest>, string[], string | undefined]>([
    [
      'monorepo tag with a prefix',
      ctx.tag('api/v1.2.3'),
      { tagPrefix: 'api/' },
      ['1.2.3', '1.2', '1', 'sha-0123456', 'latest'],
      '1.2.3',
    ],
    [
      'monorepo tag, prefix found by itself',
      ctx.tag('api/v1.2.3'),
      {},
      ['1.2.3', '1.2', '1', 'sha-0123456', 'latest'],
      '1.2.3',
    ],
    ["another component's tag", ctx.tag('web/v1.2.3'), { tagPrefix: 'api/' }, ['sha-0123456'], undefined],
    ['release event', ctx.release('v3.0.0'), {}, ['3.0.0', '3.0', '3', 'sha-0123456', 'latest'], '3.0.0'],
    [
      'release marked pre-release',
      ctx.release('v3.0.0', true),
      {},
      ['3.0.0', '3.0', '3', 'sha-0123456'],
      '3.0.0',
    ],
    [
      'dispatch input',
      ctx.dispatch({ version: 'v2.1.0' }),
      {},
      ['2.1.0', '2.1', '2', 'sha-0123456', 'latest'],
      '2.1.0',
    ],
    [
      'explicit version',
      ctx.branch('main'),
      { version: '5.0.1' },
      ['5.0.1', '5.0', '5', 'sha-0123456', 'latest'],
      '5.0.1',
    ],
    [
      'RELEASE.txt on the default branch',
      ctx.branch('main'),
      { fileVersion: { source: 'RELEASE.txt', version: '1.4.0' } },
      ['1.4.0', '1.4', '1', 'sha-0123456', 'latest'],
      '1.4.0',
    ],
    [
      'RELEASE.txt on another branch',
      ctx.branch('dev'),
      { fileVersion: { source: 'RELEASE.txt', version: '1.4.0' } },
      ['sha-0123456'],
      undefined,
    ],
    [
      'RELEASE.txt on a PR',
      ctx.pr(4),
      { fileVersion: { source: 'RELEASE.txt', version: '1.4.0' } },
      ['sha-fedcba9'],
      undefined,
    ],
    [
      'RELEASE.txt loses to a tag',
      ctx.tag('v9.0.0'),
      { fileVersion: { source: 'RELEASE.txt', version: '1.4.0' } },
      ['9.0.0', '9.0', '9', 'sha-0123456', 'latest'],
      '9.0.0',
    ],
    [
      'backport does not take latest',
      ctx.tag('v1.4.9'),
      { existingTags: ['1.4.8', '2.0.0', 'latest', 'sha-abc'] },
      ['1.4.9', '1.4', '1', 'sha-0123456'],
      '1.4.9',
    ],
    [
      'highest release takes latest',
      ctx.tag('v2.0.1'),
      { existingTags: ['v1.4.8', 'v2.0.0', 'v3.0.0-rc.1'] },
      ['2.0.1', '2.0', '2', 'sha-0123456', 'latest'],
      '2.0.1',
    ],
    [
      're-running the highest release keeps latest',
      ctx.tag('v2.0.0'),
      { existingTags: ['2.0.0'] },
      ['2.0.0', '2.0', '2', 'sha-0123456', 'latest'],
      '2.0.0',
    ],
    [
      'existing tags of another component are ignored',
      ctx.tag('api/v1.0.0'),
      { tagPrefix: 'api/', existingTags: ['api/v0.9.0', 'web/v5.0.0'] },
      ['1.0.0', '1.0', '1', 'sha-0123456', 'latest'],
      '1.0.0',
    ],
    [
      'dispatch input wins over the tag it was dispatched on',
      { ...ctx.dispatch({ version: '2.2.0' }), ref: 'refs/tags/v2.1.0' },
      {},
      ['2.2.0', '2.2', '2', 'sha-0123456', 'latest'],
      '2.2.0',
    ],
    [
      'dispatch on a tag without an input uses the tag',
      { ...ctx.dispatch({}), ref: 'refs/tags/v2.1.0' },
      {},
      ['2.1.0', '2.1', '2', 'sha-0123456', 'latest'],
      '2.1.0',
    ],
  ])('%s', (_name, context, extra, expected, release) => {
    const metadata = compute(rules, context, extra);
    expect(metadata.tagNames).toEqual(expected);
    expect(metadata.release).toBe(release);
  });

  it.each([
    ['v1.3.0-rc.2', ['1.3.0-rc.2', 'rc']],
    ['v1.3.0-beta3', ['1.3.0-beta3', 'beta']],
    ['v1.3.0-1', ['1.3.0-1']],
    ['v1.3.0', ['1.3.0', 'latest']],
  ])('pre-release channel of %s', (tag, expected) => {
    expect(compute(['type=semver,pattern={{version}}', 'type=channel'], ctx.tag(tag)).tagNames).toEqual(
      expected,
    );
  });

  it('keeps every tag valid and gives long branches distinct tags', () => {
    const long = `feature/${'very-long-name-'.repeat(12)}`;
    const a = compute(['type=ref,event=branch'], ctx.branch(`${long}a`)).tagNames;
    const b = compute(['type=ref,event=branch'], ctx.branch(`${long}b`)).tagNames;
    expect(a[0]).toHaveLength(128);
    expect(b[0]).toHaveLength(128);
    expect(a[0]).not.toBe(b[0]);
    expect(compute(['type=ref,event=branch'], ctx.branch('.hidden')).tagNames).toEqual(['hidden']);
    expect(compute(['type=raw,value=--'], ctx.branch('main')).tagNames).toEqual([]);
  });

  it("never gives latest for another component's tag, even through type=ref,event=tag", () => {
    const metadata = compute(['type=ref,event=tag'], ctx.tag('web/v1.0.0'), { tagPrefix: 'api/' });
    expect(metadata.tagNames).toEqual(['web-v1.0.0']);
    expect(metadata.explanation.at(-1)?.reason).toBe(
      'tag web/v1.0.0 is not a release of this component (api/)',
    );
  });

  it('explains every rule, including the ones that made nothing', () => {
    const metadata = compute(
      ['type=semver,pattern={{version}}', 'type=ref,event=pr', 'type=sha,enable=false'],
      ctx.tag('v1.4.9'),
      {
        existingTags: ['2.0.0'],
      },
    );
    expect(metadata.explanation).toEqual([
      { rule: 'version source', produced: [], reason: 'version 1.4.9 from tag v1.4.9' },
      {
        rule: 'type=semver,pattern={{version}}',
        produced: ['1.4.9'],
        reason: '{{version}} of 1.4.9 from tag v1.4.9',
      },
      { rule: 'type=ref,event=pr,prefix=pr-', produced: [], reason: 'not a pull request' },
      {
        rule: 'type=sha,enable=false,prefix=sha-,format=short',
        produced: [],
        reason: 'disabled (enable=false)',
      },
      {
        rule: 'flavor latest=auto',
        produced: [],
        reason: '1.4.9 is lower than the existing release 2.0.0 (a backport)',
      },
    ]);
  });

  it('says why a pull request uses the head commit', () => {
    const explained = compute(['type=sha'], ctx.pr(3)).explanation.find((e) => e.rule.startsWith('type=sha'));
    expect(explained?.reason).toContain('pull request head commit (not the merge commit)');
  });
});

describe('labels and annotations', () => {
  const context: GitContext = {
    ...ctx.tag('v1.2.3'),
    repository: 'acme/shop',
    serverUrl: 'https://github.com',
    description: 'The shop',
    license: 'Apache-2.0',
  };

  it('sets the OCI labels metadata-action sets, and custom ones override them', () => {
    const metadata = compute(SEMVER3, context, {
      labels: ['org.opencontainers.image.title=Shop', 'team={{tag}}'],
      annotations: ['org.opencontainers.image.description=Annotated'],
    });
    expect(metadata.labels).toEqual({
      'org.opencontainers.image.created': '2026-03-04T05:06:07.000Z',
      'org.opencontainers.image.description': 'The shop',
      'org.opencontainers.image.licenses': 'Apache-2.0',
      'org.opencontainers.image.revision': SHA,
      'org.opencontainers.image.source': 'https://github.com/acme/shop',
      'org.opencontainers.image.title': 'Shop',
      'org.opencontainers.image.url': 'https://github.com/acme/shop',
      'org.opencontainers.image.version': '1.2.3',
      team: 'v1.2.3',
    });
    expect(metadata.annotations['org.opencontainers.image.description']).toBe('Annotated');
    expect(metadata.annotations.team).toBeUndefined();
  });

  it('leaves out labels it has no value for', () => {
    const metadata = compute(['type=schedule'], ctx.branch('dev'));
    expect(Object.keys(metadata.labels)).toEqual([
      'org.opencontainers.image.created',
      'org.opencontainers.image.revision',
    ]);
  });
});

describe('bad input says what is wrong and where', () => {
  it.each<[string, Partial<MetadataRequest>, string]>([
    ['unknown type', { tagRules: ['type=nope'] }, 'tag rule "type=nope" failed: unknown type "nope"'],
    ['pep440', { tagRules: ['type=pep440,pattern={{version}}'] }, 'PEP 440 versions are not supported'],
    [
      'unknown attribute',
      { tagRules: ['type=semver,patern={{version}}'] },
      'type=semver has no attribute patern=',
    ],
    ['missing pattern', { tagRules: ['type=semver'] }, 'type=semver needs pattern='],
    ['missing event', { tagRules: ['type=ref'] }, 'type=ref needs event='],
    ['bad event', { tagRules: ['type=ref,event=push'] }, 'event=push is not one of branch, tag, pr'],
    ['bad format', { tagRules: ['type=sha,format=tiny'] }, 'format=tiny is not one of short, long'],
    ['bad group', { tagRules: ['type=match,pattern=x,group=a'] }, 'group=a is not a group number'],
    ['bad priority', { tagRules: ['type=sha,priority=high'] }, 'priority=high is not a whole number'],
    ['twice', { tagRules: ['type=sha,prefix=a,prefix=b'] }, 'attribute prefix= is given twice'],
    ['raw without value', { tagRules: ['type=raw'] }, 'type=raw needs value='],
    [
      'quote inside a field',
      { tagRules: ['type=raw,value="a,b"'] },
      'a double quote inside the field "value="a"',
    ],
    ['unclosed quote', { tagRules: ['type=raw,"value=a'] }, 'a double quote is never closed'],
    ['bad enable', { tagRules: ['type=sha,enable=maybe'] }, 'enable= must be true or false, it is "maybe"'],
    ['unknown expression', { tagRules: ['type=raw,value={{nope}}'] }, 'unknown expression {{nope}}'],
    [
      'bad time zone',
      { tagRules: ["type=raw,value={{date 'YYYY' tz='Mars/Base'}}"] },
      'unknown time zone "Mars/Base"',
    ],
    ['bad date option', { tagRules: ["type=raw,value={{date 'YYYY' zone='UTC'}}"] }, 'unknown option zone='],
    [
      'bad regex',
      { tagRules: ['type=match,pattern=(', 'type=raw,value=x'], context: ctx.tag('v1.0.0') },
      'is not a valid regular expression',
    ],
    [
      'bad flavor latest',
      { flavor: ['latest=sometimes'] },
      'latest=sometimes is not one of auto, true, false',
    ],
    ['bad flavor key', { flavor: ['prefx=a'] }, 'unknown flavor prefx='],
    ['bare flavor', { flavor: ['auto'] }, '"auto" is not key=value'],
    ['onlatest alone', { flavor: ['onlatest=true'] }, 'onlatest= must follow a prefix= or suffix='],
    ['bad onlatest', { flavor: ['prefix=a,onlatest=yes'] }, 'onlatest=yes is not true or false'],
    ['image with a tag', { images: ['ghcr.io/a/b:1'] }, 'it carries a tag or digest'],
    ['bad image', { images: ['ghcr.io/a//b'] }, 'empty path component'],
    ['bad image enable', { images: ['name=a/b,enable=0'] }, 'enable=0 is not true or false'],
    ['bad label', { labels: ['novalue'] }, 'labels failed: "novalue" is not key=value'],
    ['bad explicit version', { version: '1.2' }, 'has 2 numbers before any pre-release'],
    [
      'bad dispatch version',
      { context: ctx.dispatch({ version: '1.02.3' }) },
      'the minor part "02" of "1.02.3" has a leading zero',
    ],
    [
      'bad RELEASE.txt version',
      { fileVersion: { source: 'RELEASE.txt', version: 'one' } },
      'the version in RELEASE.txt failed',
    ],
  ])('%s', (_name, extra, message) => {
    const run = () => compute(['type=sha'], ctx.branch('main'), extra);
    expect(run).toThrow(GreenlightError);
    expect(run).toThrow(message);
  });
});

describe('parseImages', () => {
  it('skips blanks, comments and duplicates', () => {
    expect(parseImages(['', '# note', 'a/b', 'A/B', 'name=c/d,enable=true'])).toEqual(['a/b', 'c/d']);
  });
});

describe('property: every tag is a valid Docker tag', () => {
  it('for random branch names, prefixes and suffixes', () => {
    const random = new Random(31337);
    const alphabet = 'abcXYZ019/._-@#~ äß+';
    const seen = new Map<string, string>();
    for (let i = 0; i < 1500; i++) {
      const branch = `${random.string('abc', 1)}${random.string(alphabet, random.int(0, 200))}`;
      const flavor = [
        `prefix=${random.string('-.ab', random.int(0, 3))}`,
        `suffix=${random.string('ab-', random.int(0, 3))}`,
      ];
      const metadata = compute(['type=ref,event=branch', 'type=sha'], ctx.branch(branch), { flavor });
      for (const tag of metadata.tagNames) expect(tag, branch).toMatch(/^[\w][\w.-]{0,127}$/);
      const tag = metadata.tagNames[0] as string;
      const sanitized = branch.replace(/[^a-zA-Z0-9._-]+/g, '-');
      if (sanitized.length > 128) {
        const earlier = seen.get(tag);
        if (earlier !== undefined) expect(earlier).toBe(`${flavor.join()}|${branch}`);
        seen.set(tag, `${flavor.join()}|${branch}`);
      }
    }
  });
});
