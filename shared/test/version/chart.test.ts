import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { GreenlightError } from '../../src/runtime/errors.ts';
import { parseChartYaml, readChart, updateChartYaml, writeChart } from '../../src/version/chart-file.ts';
import {
  type ChartPlanRules,
  type ChartTree,
  globToRegExp,
  maxBump,
  planChartFromDirs,
  planChartFromGit,
  planChartVersion,
  planRulesFromConfig,
} from '../../src/version/chart-plan.ts';

const CHART = `# The shop chart
apiVersion: v2
name: shop # the release name prefix
description: The shop
type: application
version: 1.1.0 # bumped by CI
appVersion: "1.2.0"
dependencies:
  - name: redis
    version: ~18.1.0
    repository: oci://registry-1.docker.io/bitnamicharts
    condition: redis.enabled
  # the database
  - name: postgresql
    alias: db
    version: 13.2.x
    repository: oci://registry-1.docker.io/bitnamicharts
`;

describe('Chart.yaml', () => {
  it('reads the fields versioning needs', () => {
    const chart = parseChartYaml(CHART);
    expect(chart).toMatchObject({
      apiVersion: 'v2',
      name: 'shop',
      version: '1.1.0',
      appVersion: '1.2.0',
      type: 'application',
      dependencies: [
        {
          name: 'redis',
          version: '~18.1.0',
          repository: 'oci://registry-1.docker.io/bitnamicharts',
          condition: 'redis.enabled',
        },
        {
          name: 'postgresql',
          alias: 'db',
          version: '13.2.x',
          repository: 'oci://registry-1.docker.io/bitnamicharts',
        },
      ],
    });
  });

  it('reads a plain 1.10 as the text 1.10, not the number 1.1', () => {
    expect(parseChartYaml('apiVersion: v2\nname: a\nversion: 0.1.0\nappVersion: 1.10\n').appVersion).toBe(
      '1.10',
    );
  });

  it('edits version and appVersion keeping every comment and the layout', () => {
    const updated = updateChartYaml(CHART, { version: '1.2.0', appVersion: '1.3.0' });
    expect(updated).toBe(CHART.replace('version: 1.1.0 #', 'version: 1.2.0 #').replace('"1.2.0"', '"1.3.0"'));
  });

  it('leaves the text byte for byte when nothing changes', () => {
    expect(updateChartYaml(CHART, {})).toBe(CHART);
  });

  it('adds a missing appVersion right after version, quoted', () => {
    const text = 'apiVersion: v2\nname: a\nversion: 0.1.0\ndescription: x\n';
    expect(updateChartYaml(text, { appVersion: '2.0' })).toBe(
      'apiVersion: v2\nname: a\nversion: 0.1.0\nappVersion: "2.0"\ndescription: x\n',
    );
  });

  it.each([
    ['apiVersion: v2\nname: a\nversion: [1\n', 'line 4: Flow sequence'],
    ['apiVersion: v2\nname: a\nname: b\nversion: 1.0.0\n', 'line 3: Map keys must be unique'],
    ['- a\n- b\n', 'line 1: the file must be a mapping'],
    ['name: a\nversion: 1.0.0\n', 'line 1: the required field `apiVersion` is missing'],
    ['apiVersion: v3\nname: a\nversion: 1.0.0\n', 'line 1: apiVersion is "v3"'],
    ['apiVersion: v2\nversion: 1.0.0\n', 'the required field `name` is missing'],
    ['apiVersion: v2\nname: a\n', 'the required field `version` is missing'],
    ['apiVersion: v2\nname: a\n\nversion: 1.0\n', 'line 4: version: "1.0" has 2 numbers'],
    ['apiVersion: v2\nname: a\nversion: v1.0.0\n', 'line 3: version: "v1.0.0" is not a semantic version'],
    ['apiVersion: v2\nname: {a: 1}\nversion: 1.0.0\n', 'line 2: `name` must be a single value'],
    [
      'apiVersion: v2\nname: a\nversion: 1.0.0\ndependencies: {a: 1}\n',
      'line 4: `dependencies` must be a list',
    ],
    [
      'apiVersion: v2\nname: a\nversion: 1.0.0\ndependencies:\n  - redis\n',
      'line 5: each dependency must be a mapping',
    ],
    [
      'apiVersion: v2\nname: a\nversion: 1.0.0\ndependencies:\n  - version: 1.0.0\n',
      'line 5: a dependency has no name',
    ],
    [
      'apiVersion: v2\nname: a\nversion: 1.0.0\ndependencies:\n  - name: r\n',
      'line 5: a dependency has no version',
    ],
  ])('rejects %j', (text, message) => {
    expect(() => parseChartYaml(text, 'chart/Chart.yaml')).toThrow(GreenlightError);
    expect(() => parseChartYaml(text, 'chart/Chart.yaml')).toThrow(message);
  });

  it('refuses to write a version that is not SemVer', () => {
    expect(() => updateChartYaml(CHART, { version: '1.2' })).toThrow('set the version of Chart.yaml failed');
  });

  it('reads and writes a chart directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'greenlight-chart-'));
    writeFileSync(join(dir, 'Chart.yaml'), CHART);
    expect((await readChart(dir)).version).toBe('1.1.0');
    await writeChart(dir, { version: '1.1.1' });
    expect(readFileSync(join(dir, 'Chart.yaml'), 'utf8')).toContain('version: 1.1.1 # bumped by CI');
    await expect(readChart(join(dir, 'absent'))).rejects.toThrow('cannot read it: ENOENT');
  });
});

const BASE_VALUES = `replicaCount: 2
image:
  repository: ghcr.io/acme/shop
  tag: "1.2.0"
resources:
  limits:
    memory: 512Mi
`;

function tree(files: Record<string, string>): ChartTree {
  return new Map(Object.entries(files));
}

const base = {
  'Chart.yaml': CHART,
  'values.yaml': BASE_VALUES,
  'README.md': '# Shop\n',
  'templates/deployment.yaml': 'kind: Deployment\n',
  'templates/NOTES.txt': 'Thanks\n',
};

function changed(files: Record<string, string | undefined>): ChartTree {
  const next: Record<string, string> = { ...base };
  for (const [path, text] of Object.entries(files)) {
    if (text === undefined) delete next[path];
    else next[path] = text;
  }
  return tree(next);
}

describe('planChartVersion', () => {
  it.each<[string, Record<string, string | undefined>, Partial<ChartPlanRules>, string, string, string]>([
    ['nothing changed', {}, {}, 'none', '1.1.0', 'nothing changed since the last released chart'],
    [
      'README only',
      { 'README.md': '# Shop!\n' },
      {},
      'none',
      '1.1.0',
      'README.md (modified): none - documentation',
    ],
    [
      'NOTES.txt only',
      { 'templates/NOTES.txt': 'Bye\n' },
      {},
      'none',
      '1.1.0',
      'templates/NOTES.txt (modified): none',
    ],
    ['a new docs file', { 'docs/usage.md': 'x' }, {}, 'none', '1.1.0', 'docs/usage.md (added): none'],
    [
      'values changed',
      { 'values.yaml': BASE_VALUES.replace('replicaCount: 2', 'replicaCount: 3') },
      {},
      'patch',
      '1.1.1',
      'values only: changed replicaCount',
    ],
    [
      'values added',
      { 'values.yaml': `${BASE_VALUES}podLabels: {}\n` },
      {},
      'patch',
      '1.1.1',
      'values only: added podLabels',
    ],
    [
      'values comments only',
      { 'values.yaml': `# tuned\n${BASE_VALUES}` },
      {},
      'none',
      '1.1.0',
      'no value changed',
    ],
    [
      'values key removed',
      { 'values.yaml': BASE_VALUES.replace('replicaCount: 2\n', '') },
      {},
      'major',
      '2.0.0',
      'values keys removed: replicaCount',
    ],
    [
      'a values map became a scalar',
      { 'values.yaml': BASE_VALUES.replace(/resources:[\s\S]*$/, 'resources: {}\n') },
      {},
      'major',
      '2.0.0',
      'resources.limits.memory',
    ],
    [
      'template changed',
      { 'templates/deployment.yaml': 'kind: Deployment\nspec: {}\n' },
      {},
      'minor',
      '1.2.0',
      'a template was modified',
    ],
    [
      'template added',
      { 'templates/service.yaml': 'kind: Service\n' },
      {},
      'minor',
      '1.2.0',
      'a template was added',
    ],
    [
      'template removed',
      { 'templates/deployment.yaml': undefined },
      {},
      'minor',
      '1.2.0',
      'a template was removed',
    ],
    [
      'a CRD',
      { 'crds/thing.yaml': 'kind: CustomResourceDefinition\n' },
      {},
      'minor',
      '1.2.0',
      'crds/thing.yaml (added): minor',
    ],
    ['values schema', { 'values.schema.json': '{}' }, {}, 'minor', '1.2.0', 'the values schema changed'],
    ['Chart.lock', { 'Chart.lock': 'digest: x' }, {}, 'minor', '1.2.0', 'dependencies changed'],
    [
      'another packaged file',
      { 'files/config.ini': 'a=1' },
      {},
      'patch',
      '1.1.1',
      'a packaged file was added',
    ],
    [
      'dependency minor update',
      { 'Chart.yaml': CHART.replace('~18.1.0', '~18.2.0') },
      {},
      'minor',
      '1.2.0',
      'dependency redis ~18.1.0 -> ~18.2.0',
    ],
    [
      'dependency major update',
      { 'Chart.yaml': CHART.replace('~18.1.0', '~19.0.0') },
      {},
      'major',
      '2.0.0',
      'dependency redis changed major version',
    ],
    [
      'dependency added',
      { 'Chart.yaml': `${CHART}  - name: kafka\n    version: 26.0.0\n` },
      {},
      'minor',
      '1.2.0',
      'dependency kafka added',
    ],
    [
      'dependency removed',
      { 'Chart.yaml': CHART.replace(/ {2}# the database[\s\S]*$/, '') },
      {},
      'major',
      '2.0.0',
      'dependency db removed',
    ],
    [
      'dependency repository moved',
      { 'Chart.yaml': CHART.replace('condition: redis.enabled', 'condition: cache.enabled') },
      {},
      'minor',
      '1.2.0',
      'dependency redis condition changed',
    ],
    [
      'appVersion changed',
      { 'Chart.yaml': CHART.replace('"1.2.0"', '"1.3.0"') },
      {},
      'patch',
      '1.1.1',
      'appVersion 1.2.0 -> 1.3.0',
    ],
    [
      'description only',
      { 'Chart.yaml': CHART.replace('The shop', 'Our shop') },
      {},
      'none',
      '1.1.0',
      'metadata only',
    ],
    [
      'the version alone',
      { 'Chart.yaml': CHART.replace('version: 1.1.0', 'version: 1.1.5') },
      {},
      'none',
      '1.1.0',
      'version 1.1.0 -> 1.1.5 is what is planned',
    ],
    [
      'kubeVersion',
      { 'Chart.yaml': CHART.replace('type: application', 'type: application\nkubeVersion: ">=1.29"') },
      {},
      'minor',
      '1.2.0',
      'kubeVersion changed',
    ],
    [
      'type changed',
      { 'Chart.yaml': CHART.replace('type: application', 'type: library') },
      {},
      'major',
      '2.0.0',
      'the chart type changed',
    ],
    [
      'renamed',
      { 'Chart.yaml': CHART.replace('name: shop', 'name: store') },
      {},
      'major',
      '2.0.0',
      'the chart name changed',
    ],
    [
      'system app image tag',
      { 'values.yaml': BASE_VALUES.replace('"1.2.0"', '"1.3.0"') },
      { systemApp: true },
      'major',
      '2.0.0',
      'system app image tag changed: image.tag "1.2.0" -> "1.3.0"',
    ],
    [
      'own app image tag is a values change',
      { 'values.yaml': BASE_VALUES.replace('"1.2.0"', '"1.3.0"') },
      {},
      'patch',
      '1.1.1',
      'changed image.tag',
    ],
    [
      'system app appVersion',
      { 'Chart.yaml': CHART.replace('"1.2.0"', '"1.3.0"') },
      { systemApp: true },
      'major',
      '2.0.0',
      'system app image version changed',
    ],
    [
      'custom tag path',
      { 'values.yaml': BASE_VALUES.replace('replicaCount: 2', 'replicaCount: 3') },
      { systemApp: true, imageTagPaths: ['replicaCount'] },
      'major',
      '2.0.0',
      'system app image tag changed',
    ],
    [
      'override rule',
      { 'templates/deployment.yaml': 'x' },
      { overrides: [{ pattern: 'templates/**', bump: 'patch' }] },
      'patch',
      '1.1.1',
      'matches the configured rule templates/** -> patch',
    ],
    [
      'override with a reason',
      { 'ci/test-values.yaml': 'x' },
      { overrides: [{ pattern: 'ci/**', bump: 'none', reason: 'CI values' }] },
      'none',
      '1.1.0',
      'CI values',
    ],
    ['values.yaml removed', { 'values.yaml': undefined }, {}, 'major', '2.0.0', 'values keys removed'],
    [
      'largest bump wins',
      { 'README.md': 'x', 'values.yaml': `${BASE_VALUES}a: 1\n`, 'templates/x.yaml': 'y' },
      {},
      'minor',
      '1.2.0',
      'shop 1.1.0 -> 1.2.0 (minor',
    ],
  ])('%s', (_name, files, rules, bump, next, explained) => {
    const plan = planChartVersion(tree(base), changed(files), rules);
    expect(plan.bump).toBe(bump);
    expect(plan.next).toBe(next);
    expect(plan.explanation.join('\n')).toContain(explained);
  });

  it('checks the declared version against the plan', () => {
    const bumped = changed({
      'templates/x.yaml': 'y',
      'Chart.yaml': CHART.replace('version: 1.1.0', 'version: 1.2.0'),
    });
    expect(planChartVersion(tree(base), bumped)).toMatchObject({
      next: '1.2.0',
      declared: '1.2.0',
      declaredOk: true,
    });
    const stale = changed({ 'templates/x.yaml': 'y' });
    const plan = planChartVersion(tree(base), stale);
    expect(plan).toMatchObject({ next: '1.2.0', declared: '1.1.0', declaredOk: false });
    expect(plan.explanation).toContain('Chart.yaml declares 1.1.0, which is lower than the planned 1.2.0');
  });

  it('moves a pre-release to the next final version', () => {
    const pre = tree({ ...base, 'Chart.yaml': CHART.replace('version: 1.1.0', 'version: 1.1.0-rc.1') });
    const next = tree({
      ...base,
      'Chart.yaml': CHART.replace('version: 1.1.0', 'version: 1.1.0-rc.1'),
      'values.yaml': `${BASE_VALUES}a: 1\n`,
    });
    expect(planChartVersion(pre, next).next).toBe('1.1.1');
  });

  it('takes a first release as it is', () => {
    expect(planChartVersion(new Map(), tree(base))).toMatchObject({
      bump: 'none',
      next: '1.1.0',
      declaredOk: true,
    });
  });

  it.each([
    ['no Chart.yaml now', tree(base), tree({ 'values.yaml': '' }), 'the current tree has no Chart.yaml'],
    ['broken values', tree(base), changed({ 'values.yaml': 'a: [' }), 'read values.yaml (current) failed'],
    [
      'broken Chart.yaml before',
      changed({ 'Chart.yaml': 'apiVersion: v2\nname: a\n' }),
      tree(base),
      'read Chart.yaml (previous) failed',
    ],
  ])('fails on %s', (_name, previous, current, message) => {
    expect(() => planChartVersion(previous, current)).toThrow(message);
  });
});

describe('helpers', () => {
  it.each([
    ['README*', 'README.md', true],
    ['README*', 'sub/README.md', true],
    ['*.md', 'docs/a.md', true],
    ['templates/*.yaml', 'templates/a.yaml', true],
    ['templates/*.yaml', 'templates/sub/a.yaml', false],
    ['templates/**', 'templates/sub/a.yaml', true],
    ['**/a.yaml', 'a.yaml', true],
    ['a?.txt', 'ab.txt', true],
    ['a+b.txt', 'a+b.txt', true],
  ])('glob %s on %s', (glob, path, expected) => {
    expect(globToRegExp(glob).test(path)).toBe(expected);
  });

  it('globs over dotted values paths', () => {
    const regex = globToRegExp('**.image.tag', '.');
    expect(regex.test('image.tag')).toBe(true);
    expect(regex.test('kafka.image.tag')).toBe(true);
    expect(regex.test('image.tags')).toBe(false);
    expect(globToRegExp('*.tag', '.').test('a.b.tag')).toBe(false);
  });

  it('orders bumps', () => {
    expect(maxBump('patch', 'minor')).toBe('minor');
    expect(maxBump('major', 'none')).toBe('major');
  });
});

function writeTree(dir: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
}

describe('planning from directories and git', () => {
  it('compares two chart directories', async () => {
    const root = mkdtempSync(join(tmpdir(), 'greenlight-plan-'));
    writeTree(join(root, 'old'), base);
    writeTree(join(root, 'new'), { ...base, 'templates/service.yaml': 'kind: Service\n' });
    const plan = await planChartFromDirs(join(root, 'old'), join(root, 'new'));
    expect(plan).toMatchObject({ chart: 'shop', previous: '1.1.0', bump: 'minor', next: '1.2.0' });
    expect(plan.changes).toEqual([
      { path: 'templates/service.yaml', change: 'added', bump: 'minor', reason: 'a template was added' },
    ]);
    await expect(planChartFromDirs(join(root, 'absent'), join(root, 'new'))).rejects.toThrow(
      'read the chart directory',
    );
  });

  it('compares a chart across a git range, and with the working tree', async () => {
    const repo = mkdtempSync(join(tmpdir(), 'greenlight-git-'));
    const git = (...args: string[]) =>
      execFileSync('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], {
        encoding: 'utf8',
      });
    git('init', '-q');
    writeTree(join(repo, 'deploy/chart'), base);
    writeTree(repo, { 'src/app.ts': 'x' });
    git('add', '.');
    git('commit', '-q', '-m', 'chart 1.1.0');
    git('tag', 'shop-1.1.0');
    writeTree(join(repo, 'deploy/chart'), { 'values.yaml': `${BASE_VALUES}extra: true\n` });
    writeTree(repo, { 'src/app.ts': 'y' });
    git('commit', '-q', '-am', 'values');

    const plan = await planChartFromGit(repo, 'deploy/chart', 'shop-1.1.0..HEAD');
    expect(plan).toMatchObject({ bump: 'patch', next: '1.1.1' });
    expect(plan.changes.map((c) => c.path)).toEqual(['values.yaml']);

    expect((await planChartFromGit(repo, './deploy/chart/', 'shop-1.1.0')).bump).toBe('patch');

    writeTree(join(repo, 'deploy/chart'), { 'templates/new.yaml': 'kind: ConfigMap\n' });
    expect((await planChartFromGit(repo, 'deploy/chart', 'HEAD..')).bump).toBe('minor');

    await expect(planChartFromGit(repo, 'deploy/chart', 'no-such-tag..HEAD')).rejects.toThrow(
      'git ls-tree failed',
    );
    await expect(planChartFromGit(repo, 'deploy/chart', '..HEAD')).rejects.toThrow('has no start');
  });

  it('reads a whole repository that is the chart', async () => {
    const repo = mkdtempSync(join(tmpdir(), 'greenlight-git-root-'));
    const git = (...args: string[]) =>
      execFileSync('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], {
        encoding: 'utf8',
      });
    git('init', '-q');
    writeTree(repo, base);
    git('add', '.');
    git('commit', '-q', '-m', 'one');
    writeTree(repo, { 'README.md': 'changed' });
    git('commit', '-q', '-am', 'docs');
    expect((await planChartFromGit(repo, '.', 'HEAD~1..HEAD')).bump).toBe('none');
  });
});

describe('planRulesFromConfig', () => {
  it('reads every key', () => {
    const config = parse(
      'ignore: ["docs/**"]\nsystemApp: true\nimageTagPaths: [kafka.image.tag]\noverrides:\n  - pattern: ci/**\n    bump: none\n    reason: CI only\n  - pattern: files/**\n    bump: minor\n',
    );
    expect(planRulesFromConfig(config)).toEqual({
      ignore: ['docs/**'],
      systemApp: true,
      imageTagPaths: ['kafka.image.tag'],
      overrides: [
        { pattern: 'ci/**', bump: 'none', reason: 'CI only' },
        { pattern: 'files/**', bump: 'minor' },
      ],
    });
    expect(planRulesFromConfig(undefined)).toEqual({});
  });

  it.each([
    ['[]', 'must be a mapping'],
    ['ignore: docs', 'ignore must be a list of non-empty strings'],
    ['imageTagPaths: [""]', 'imageTagPaths must be a list of non-empty strings'],
    ['systemApp: yes please', 'systemApp must be true or false'],
    ['overrides: {}', 'overrides must be a list'],
    ['overrides: [x]', 'overrides[0] must be a mapping'],
    ['overrides: [{bump: none}]', 'overrides[0].pattern must be a glob'],
    ['overrides: [{pattern: a, bump: huge}]', 'overrides[0].bump must be one of none, patch, minor, major'],
    ['overrides: [{pattern: a, bump: none, reason: [1]}]', 'overrides[0].reason must be text'],
    ['sytemApp: true', 'unknown key sytemApp'],
  ])('rejects %s', (yaml, message) => {
    expect(() => planRulesFromConfig(parse(yaml))).toThrow(message);
  });

  it('drives a plan', () => {
    const rules = planRulesFromConfig(parse('overrides: [{pattern: "templates/**", bump: patch}]'));
    expect(planChartVersion(tree(base), changed({ 'templates/x.yaml': 'y' }), rules).bump).toBe('patch');
  });
});
