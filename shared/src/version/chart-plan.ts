// Planning the next chart version from what changed since the last released chart: docs only -> no bump,
// values -> patch, templates or dependencies -> minor, removed values keys or a major dependency change -> major,
// and for system apps (Kafka, Redis) whose image tag lives in the chart, a tag change -> major.
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { promisify } from 'node:util';
import * as semver from 'semver';
import { parse as parseYaml } from 'yaml';
import { GreenlightError } from '../runtime/errors.ts';
import { type ChartDependency, type ChartMetadata, parseChartYaml } from './chart-file.ts';

export const BUMPS = ['none', 'patch', 'minor', 'major'] as const;
export type Bump = (typeof BUMPS)[number];

/** A chart's files: path relative to the chart root (with `/`) -> content. */
export type ChartTree = Map<string, string>;

/** A rule that fixes the bump for files matching a glob; overrides run before the defaults, first match wins. */
export interface BumpRule {
  pattern: string;
  bump: Bump;
  reason?: string;
}

/** The planning rules. Every field has a default (see DEFAULT_PLAN_RULES). */
export interface ChartPlanRules {
  /** Files whose changes never bump (docs): README, NOTES.txt, *.md, LICENSE. */
  ignore: string[];
  /** Rules checked before the built-in ones. */
  overrides: BumpRule[];
  /** A third-party system app whose image tag lives in the chart: a tag or appVersion change is major. */
  systemApp: boolean;
  /** Values paths that hold the image tag, `*` for one key and `**` for any depth. */
  imageTagPaths: string[];
}

export const DEFAULT_PLAN_RULES: ChartPlanRules = {
  ignore: ['README*', '*.md', 'templates/NOTES.txt', 'LICENSE*', '.helmignore'],
  overrides: [],
  systemApp: false,
  imageTagPaths: ['**.image.tag'],
};

/** One changed file and what it asks for. */
export interface ChartChange {
  path: string;
  change: 'added' | 'removed' | 'modified';
  bump: Bump;
  reason: string;
}

/** The plan: from which version, the bump, the next version, and why. */
export interface ChartPlan {
  chart: string;
  /** The version of the last released chart (the previous tree); undefined for a first release. */
  previous?: string;
  bump: Bump;
  /** The version the chart should have now. */
  next: string;
  /** The version the current Chart.yaml declares. */
  declared: string;
  /** True when the declared version is at least `next` (or equals the previous one when no bump is due). */
  declaredOk: boolean;
  changes: ChartChange[];
  /** One sentence per decision, for logs and summaries. */
  explanation: string[];
}

const ORDER: Record<Bump, number> = { none: 0, patch: 1, minor: 2, major: 3 };

/** The larger of two bumps. */
export function maxBump(a: Bump, b: Bump): Bump {
  return ORDER[a] >= ORDER[b] ? a : b;
}

/**
 * Turns a glob into a RegExp over `/`-separated paths: `**` spans directories, `*` and `?` stay within one.
 * A pattern without `/` matches the file name at any depth, as in .gitignore.
 */
export function globToRegExp(glob: string, separator = '/'): RegExp {
  const sepEscaped = separator === '/' ? '/' : `\\${separator}`;
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i] as string;
    if (char === '*' && glob[i + 1] === '*') {
      const followed = glob[i + 2] === separator;
      out += followed ? `(?:.*${sepEscaped})?` : '.*';
      i += followed ? 2 : 1;
    } else if (char === '*') out += `[^${sepEscaped}]*`;
    else if (char === '?') out += `[^${sepEscaped}]`;
    else out += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  const anywhere = separator === '/' && !glob.includes('/');
  return new RegExp(`^${anywhere ? '(?:.*/)?' : ''}${out}$`);
}

function matches(glob: string, path: string): boolean {
  return globToRegExp(glob).test(path);
}

type Tree = Record<string, unknown>;

function isObject(value: unknown): value is Tree {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Leaf paths of a values document (maps are walked, lists and scalars are leaves) -> their JSON text. */
function leaves(value: unknown, prefix: string[] = [], out = new Map<string, string>()): Map<string, string> {
  if (isObject(value) && Object.keys(value).length > 0) {
    for (const [key, child] of Object.entries(value)) leaves(child, [...prefix, key], out);
  } else if (prefix.length > 0) {
    out.set(prefix.join('.'), JSON.stringify(value));
  }
  return out;
}

function parseValues(text: string, path: string, side: string): unknown {
  try {
    return parseYaml(text) ?? {};
  } catch (error) {
    throw new GreenlightError({
      what: `read ${path} (${side})`,
      reason: error instanceof Error ? (error.message.split('\n')[0] as string) : String(error),
      file: path,
    });
  }
}

function listed(paths: string[], max = 5): string {
  return paths.length <= max
    ? paths.join(', ')
    : `${paths.slice(0, max).join(', ')} and ${paths.length - max} more`;
}

/** Compares two values.yaml texts. */
function valuesChange(
  path: string,
  before: string,
  after: string,
  rules: ChartPlanRules,
): Omit<ChartChange, 'change'> {
  const old = leaves(parseValues(before, path, 'previous'));
  const now = leaves(parseValues(after, path, 'current'));
  const removed = [...old.keys()].filter(
    (key) => !now.has(key) && ![...now.keys()].some((k) => k.startsWith(`${key}.`)),
  );
  if (removed.length > 0) {
    return {
      path,
      bump: 'major',
      reason: `values keys removed: ${listed(removed)} (users who set them break)`,
    };
  }
  const changed = [...now.keys()].filter((key) => old.get(key) !== now.get(key));
  if (changed.length === 0)
    return { path, bump: 'none', reason: 'no value changed (formatting or comments only)' };
  if (rules.systemApp) {
    const tagPatterns = rules.imageTagPaths.map((pattern) => globToRegExp(pattern, '.'));
    const tags = changed.filter((key) => old.has(key) && tagPatterns.some((regex) => regex.test(key)));
    if (tags.length > 0) {
      const detail = tags.map((key) => `${key} ${old.get(key)} -> ${now.get(key)}`).join(', ');
      return { path, bump: 'major', reason: `system app image tag changed: ${detail}` };
    }
  }
  const added = changed.filter((key) => !old.has(key));
  const modified = changed.filter((key) => old.has(key));
  const parts = [
    modified.length > 0 ? `changed ${listed(modified)}` : '',
    added.length > 0 ? `added ${listed(added)}` : '',
  ].filter(Boolean);
  return { path, bump: 'patch', reason: `values only: ${parts.join('; ')}` };
}

function dependencyKey(dependency: ChartDependency): string {
  return dependency.alias ?? dependency.name;
}

function majorOf(range: string): number | undefined {
  try {
    return semver.minVersion(range)?.major;
  } catch {
    return undefined;
  }
}

/** Compares two Chart.yaml files field by field. */
function chartYamlChanges(
  path: string,
  before: ChartMetadata,
  after: ChartMetadata,
  rules: ChartPlanRules,
): ChartChange[] {
  const out: ChartChange[] = [];
  const add = (bump: Bump, reason: string) => out.push({ path, change: 'modified', bump, reason });
  if (before.name !== after.name) add('major', `the chart name changed from ${before.name} to ${after.name}`);
  if ((before.type ?? 'application') !== (after.type ?? 'application')) {
    add(
      'major',
      `the chart type changed from ${before.type ?? 'application'} to ${after.type ?? 'application'}`,
    );
  }
  if (before.apiVersion !== after.apiVersion)
    add('minor', `apiVersion changed from ${before.apiVersion} to ${after.apiVersion}`);
  if (before.kubeVersion !== after.kubeVersion) {
    add(
      'minor',
      `kubeVersion changed from ${before.kubeVersion ?? '(none)'} to ${after.kubeVersion ?? '(none)'}`,
    );
  }
  if (before.appVersion !== after.appVersion) {
    const what = `appVersion ${before.appVersion ?? '(none)'} -> ${after.appVersion ?? '(none)'}`;
    if (rules.systemApp) add('major', `system app image version changed: ${what}`);
    else add('patch', `${what} (a new app version on the same chart)`);
  }
  const old = new Map(before.dependencies.map((d) => [dependencyKey(d), d]));
  const now = new Map(after.dependencies.map((d) => [dependencyKey(d), d]));
  for (const [key, dependency] of old) {
    if (!now.has(key)) add('major', `dependency ${key} removed (its objects and values go away)`);
    else {
      const next = now.get(key) as ChartDependency;
      if (next.version !== dependency.version) {
        const a = majorOf(dependency.version);
        const b = majorOf(next.version);
        if (a !== undefined && b !== undefined && a !== b) {
          add('major', `dependency ${key} changed major version: ${dependency.version} -> ${next.version}`);
        } else add('minor', `dependency ${key} ${dependency.version} -> ${next.version}`);
      }
      if ((next.repository ?? '') !== (dependency.repository ?? ''))
        add('minor', `dependency ${key} moved to ${next.repository}`);
      if ((next.condition ?? '') !== (dependency.condition ?? ''))
        add('minor', `dependency ${key} condition changed`);
    }
  }
  for (const key of now.keys()) if (!old.has(key)) add('minor', `dependency ${key} added`);
  if (out.length === 0) {
    const declared =
      before.version !== after.version
        ? ` (version ${before.version} -> ${after.version} is what is planned)`
        : '';
    out.push({
      path,
      change: 'modified',
      bump: 'none',
      reason: `metadata only (description, keywords, maintainers...)${declared}`,
    });
  }
  return out;
}

/** The bump one added, removed or modified file asks for. */
function classify(
  path: string,
  change: ChartChange['change'],
  before: string | undefined,
  after: string | undefined,
  rules: ChartPlanRules,
): ChartChange[] {
  for (const rule of rules.overrides) {
    if (matches(rule.pattern, path)) {
      return [
        {
          path,
          change,
          bump: rule.bump,
          reason: rule.reason ?? `matches the configured rule ${rule.pattern} -> ${rule.bump}`,
        },
      ];
    }
  }
  const one = (bump: Bump, reason: string): ChartChange[] => [{ path, change, bump, reason }];
  if (rules.ignore.some((glob) => matches(glob, path)))
    return one('none', 'documentation, not part of what the chart deploys');
  if (path === 'Chart.yaml') {
    if (change !== 'modified') return one('major', `Chart.yaml ${change}`);
    return chartYamlChanges(
      path,
      parseChartYaml(before as string, path),
      parseChartYaml(after as string, path),
      rules,
    );
  }
  if (path === 'values.yaml') {
    if (change === 'added') return one('patch', 'values.yaml added (new defaults)');
    return [{ change, ...valuesChange(path, before ?? '{}', after ?? '{}', rules) }];
  }
  if (path === 'Chart.lock' || path.startsWith('charts/'))
    return one('minor', 'dependencies changed (lock file or vendored chart)');
  if (path === 'values.schema.json')
    return one('minor', 'the values schema changed (it can reject values that passed before)');
  if (path.startsWith('templates/') || path.startsWith('crds/')) {
    return one('minor', change === 'removed' ? 'a template was removed' : `a template was ${change}`);
  }
  return one('patch', `a packaged file was ${change}`);
}

function nextVersion(previous: string, bump: Bump): string {
  if (bump === 'none') return previous;
  const parsed = semver.parse(previous) as semver.SemVer;
  // A pre-release previous version: the bump still moves to the next final version of that kind.
  return semver.inc(
    parsed.prerelease.length > 0 ? (parsed.version.split('-')[0] as string) : parsed.version,
    bump,
  ) as string;
}

/**
 * Plans the chart version of `current` against `previous` (the tree of the last released chart, or an empty
 * tree for a first release). Each changed file gets a bump and a reason; the chart gets the largest one.
 */
export function planChartVersion(
  previous: ChartTree,
  current: ChartTree,
  rules: Partial<ChartPlanRules> = {},
): ChartPlan {
  const merged: ChartPlanRules = { ...DEFAULT_PLAN_RULES, ...rules };
  const currentChart = current.get('Chart.yaml');
  if (currentChart === undefined) {
    throw new GreenlightError({
      what: 'plan the chart version',
      reason: 'the current tree has no Chart.yaml',
      hint: 'point at the chart directory',
    });
  }
  const now = parseChartYaml(currentChart, 'Chart.yaml');
  const previousChart = previous.get('Chart.yaml');
  if (previousChart === undefined) {
    return {
      chart: now.name,
      bump: 'none',
      next: now.version,
      declared: now.version,
      declaredOk: true,
      changes: [],
      explanation: [`${now.name}: no released chart to compare with, so ${now.version} is its first version`],
    };
  }
  const before = parseChartYaml(previousChart, 'Chart.yaml (previous)');
  const changes: ChartChange[] = [];
  const paths = [...new Set([...previous.keys(), ...current.keys()])].sort();
  for (const path of paths) {
    const a = previous.get(path);
    const b = current.get(path);
    if (a === b) continue;
    const change = a === undefined ? 'added' : b === undefined ? 'removed' : 'modified';
    changes.push(...classify(path, change, a, b, merged));
  }
  const bump = changes.reduce<Bump>((acc, change) => maxBump(acc, change.bump), 'none');
  const next = nextVersion(before.version, bump);
  const declaredOk =
    bump === 'none' ? semver.gte(now.version, before.version) : semver.gte(now.version, next);
  const explanation = changes.map(
    (change) => `${change.path} (${change.change}): ${change.bump} - ${change.reason}`,
  );
  if (changes.length === 0) explanation.push('nothing changed since the last released chart');
  explanation.push(
    bump === 'none'
      ? `${now.name} stays at ${before.version}: no change needs a new chart version`
      : `${now.name} ${before.version} -> ${next} (${bump}: the largest bump any change asks for)`,
  );
  if (!declaredOk)
    explanation.push(`Chart.yaml declares ${now.version}, which is lower than the planned ${next}`);
  return {
    chart: now.name,
    previous: before.version,
    bump,
    next,
    declared: now.version,
    declaredOk,
    changes,
    explanation,
  };
}

/** Reads every file under a chart directory into a tree (paths relative to it, with `/`). */
export async function readChartTree(dir: string): Promise<ChartTree> {
  const tree: ChartTree = new Map();
  let entries: string[];
  try {
    entries = await readdir(dir, { recursive: true });
  } catch (error) {
    throw new GreenlightError({
      what: `read the chart directory ${dir}`,
      reason: `${(error as NodeJS.ErrnoException).code ?? error}`,
      cause: error,
    });
  }
  for (const entry of entries.sort()) {
    const path = join(dir, entry);
    try {
      tree.set(relative(dir, path).split(sep).join('/'), await readFile(path, 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EISDIR') throw error;
    }
  }
  return tree;
}

const run = promisify(execFile);

async function git(repo: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run('git', ['-C', repo, ...args], {
      maxBuffer: 256 * 1024 * 1024,
      encoding: 'utf8',
    });
    return stdout;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new GreenlightError({
      what: `git ${args[0]}`,
      reason: stderr || (error instanceof Error ? error.message : String(error)),
      hint: 'check that the ref exists (fetch tags, or use actions/checkout with fetch-depth: 0)',
      cause: error,
    });
  }
}

/** Reads a chart directory as it was at a git ref (`v1.2.0`, a sha, `HEAD~3`). */
export async function chartTreeAtRef(repo: string, ref: string, chartPath: string): Promise<ChartTree> {
  const root = chartPath.replace(/\/+$/, '').replace(/^\.\//, '');
  const whole = root === '.' || root === '';
  const listing = await git(repo, [
    'ls-tree',
    '-r',
    '-z',
    '--full-tree',
    ref,
    ...(whole ? [] : ['--', root]),
  ]);
  const tree: ChartTree = new Map();
  for (const entry of listing.split('\0')) {
    const match = /^\d+ blob ([0-9a-f]+)\t(.*)$/s.exec(entry);
    if (!match) continue;
    const path = match[2] as string;
    const inside = whole ? path : path.slice(root.length + 1);
    tree.set(inside, await git(repo, ['cat-file', 'blob', match[1] as string]));
  }
  return tree;
}

/** Plans from two chart directories: the last released one and the current one. */
export async function planChartFromDirs(
  previousDir: string,
  currentDir: string,
  rules: Partial<ChartPlanRules> = {},
): Promise<ChartPlan> {
  return planChartVersion(await readChartTree(previousDir), await readChartTree(currentDir), rules);
}

/**
 * Plans from a git range `from..to` (to defaults to HEAD): the chart at `from` is the last released one. A
 * `to` of the empty string reads the working tree instead.
 */
export async function planChartFromGit(
  repo: string,
  chartPath: string,
  range: string,
  rules: Partial<ChartPlanRules> = {},
): Promise<ChartPlan> {
  const [from, to = 'HEAD'] = range.split('..') as [string, string | undefined];
  if (!from) {
    throw new GreenlightError({
      what: 'plan the chart version',
      reason: `the range "${range}" has no start`,
      hint: 'write it as <from>..<to>, e.g. mychart-1.2.0..HEAD',
    });
  }
  const previous = await chartTreeAtRef(repo, from, chartPath);
  const current =
    to === '' ? await readChartTree(join(repo, chartPath)) : await chartTreeAtRef(repo, to, chartPath);
  return planChartVersion(previous, current, rules);
}

/**
 * Reads planning rules from user configuration (an input's parsed YAML, or a file's): `{ ignore, overrides,
 * systemApp, imageTagPaths }`, every key optional. Unknown keys and wrong types are errors naming the key.
 */
export function planRulesFromConfig(value: unknown, what = 'chart version rules'): Partial<ChartPlanRules> {
  if (value === undefined || value === null) return {};
  const fail = (reason: string): never => {
    throw new GreenlightError({
      what,
      reason,
      hint: 'keys: ignore (globs), overrides (list of {pattern, bump, reason}), systemApp (true/false), imageTagPaths (list)',
    });
  };
  if (typeof value !== 'object' || Array.isArray(value)) fail('must be a mapping');
  const config = value as Record<string, unknown>;
  const rules: Partial<ChartPlanRules> = {};
  const strings = (key: string): string[] => {
    const list = config[key];
    if (!Array.isArray(list) || list.some((item) => typeof item !== 'string' || item === '')) {
      fail(`${key} must be a list of non-empty strings`);
    }
    return list as string[];
  };
  for (const key of Object.keys(config)) {
    switch (key) {
      case 'ignore':
        rules.ignore = strings(key);
        break;
      case 'imageTagPaths':
        rules.imageTagPaths = strings(key);
        break;
      case 'systemApp':
        if (typeof config.systemApp !== 'boolean') fail('systemApp must be true or false');
        rules.systemApp = config.systemApp as boolean;
        break;
      case 'overrides': {
        const list = config.overrides;
        if (!Array.isArray(list)) fail('overrides must be a list');
        rules.overrides = (list as unknown[]).map((item, i) => {
          const entry = item as Record<string, unknown> | null;
          if (entry === null || typeof entry !== 'object' || Array.isArray(entry))
            fail(`overrides[${i}] must be a mapping`);
          const { pattern, bump, reason } = entry as Record<string, unknown>;
          if (typeof pattern !== 'string' || pattern === '') fail(`overrides[${i}].pattern must be a glob`);
          if (!(BUMPS as readonly unknown[]).includes(bump))
            fail(`overrides[${i}].bump must be one of ${BUMPS.join(', ')}`);
          if (reason !== undefined && typeof reason !== 'string') fail(`overrides[${i}].reason must be text`);
          const rule: BumpRule = { pattern: pattern as string, bump: bump as Bump };
          if (typeof reason === 'string') rule.reason = reason;
          return rule;
        });
        break;
      }
      default:
        fail(`unknown key ${key}`);
    }
  }
  return rules;
}
