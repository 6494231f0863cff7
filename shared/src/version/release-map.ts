// The release map: which app version ships with which chart version, image digest and git commit. One entry is
// what the release record stores; the map is what audit checks. Its JSON form is stable: the same map always
// serialises to the same bytes.
import * as semver from 'semver';
import { digestProblem, parseImageReference } from '../image/reference.ts';
import { GreenlightError } from '../runtime/errors.ts';
import { cleanVersion, semverProblem } from './semver.ts';

/** One release: app version <-> chart name and version <-> image digest <-> git sha. */
export interface ReleaseMapping {
  app: { name: string; version: string };
  chart: { name: string; version: string };
  /** The image repository (`ghcr.io/acme/api`) and the digest that was built and tested. */
  image: { repository: string; digest: string };
  git: { sha: string; ref?: string };
  /** ISO time the release was made. */
  createdAt?: string;
}

/** Every release of an app, newest app version first. */
export interface ReleaseMap {
  schemaVersion: 1;
  releases: ReleaseMapping[];
}

export const RELEASE_MAP_SCHEMA_VERSION = 1;

function invalid(where: string, reason: string): never {
  throw new GreenlightError({
    what: 'release map',
    reason: `${where}: ${reason}`,
    hint: 'see docs/versioning.md, "The release map", for the JSON form',
  });
}

function field(value: unknown, where: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    invalid(where, 'must be an object');
  return value as Record<string, unknown>;
}

function text(value: unknown, where: string, optional = false): string | undefined {
  if (value === undefined && optional) return undefined;
  if (typeof value !== 'string' || value === '') invalid(where, 'must be a non-empty string');
  return value;
}

/** Checks one mapping and returns it in canonical form (clean versions, fields in a fixed order). */
export function validateReleaseMapping(value: unknown, where = 'release'): ReleaseMapping {
  const entry = field(value, where);
  const app = field(entry.app, `${where}.app`);
  const chart = field(entry.chart, `${where}.chart`);
  const image = field(entry.image, `${where}.image`);
  const git = field(entry.git, `${where}.git`);
  const version = (path: string, raw: unknown): string => {
    const given = text(raw, path) as string;
    return cleanVersion(given) ?? invalid(path, semverProblem(given));
  };
  const repository = text(image.repository, `${where}.image.repository`) as string;
  try {
    const ref = parseImageReference(repository);
    if (ref.tag || ref.digest)
      invalid(`${where}.image.repository`, 'must be a repository without tag or digest');
  } catch (error) {
    if (error instanceof GreenlightError && error.what === 'release map') throw error;
    invalid(`${where}.image.repository`, error instanceof Error ? error.message : String(error));
  }
  const digest = text(image.digest, `${where}.image.digest`) as string;
  const problem = digestProblem(digest);
  if (problem) invalid(`${where}.image.digest`, problem);
  const sha = text(git.sha, `${where}.git.sha`) as string;
  if (!/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(sha))
    invalid(`${where}.git.sha`, `"${sha}" is not a full commit id (40 or 64 lowercase hex digits)`);
  const mapping: ReleaseMapping = {
    app: {
      name: text(app.name, `${where}.app.name`) as string,
      version: version(`${where}.app.version`, app.version),
    },
    chart: {
      name: text(chart.name, `${where}.chart.name`) as string,
      version: version(`${where}.chart.version`, chart.version),
    },
    image: { repository, digest },
    git: { sha },
  };
  const ref = text(git.ref, `${where}.git.ref`, true);
  if (ref !== undefined) mapping.git.ref = ref;
  const createdAt = text(entry.createdAt, `${where}.createdAt`, true);
  if (createdAt !== undefined) {
    if (Number.isNaN(Date.parse(createdAt)))
      invalid(`${where}.createdAt`, `"${createdAt}" is not an ISO date-time`);
    mapping.createdAt = createdAt;
  }
  return mapping;
}

/** Orders releases newest app version first; equal versions by app name. */
function compareReleases(a: ReleaseMapping, b: ReleaseMapping): number {
  return (
    semver.rcompare(a.app.version, b.app.version) ||
    (a.app.name < b.app.name ? -1 : a.app.name > b.app.name ? 1 : 0)
  );
}

/**
 * Adds a release to a map (or replaces the entry of the same app and version) and returns the new map. Adding
 * the same app version with a different digest or chart is refused: a released version never changes.
 */
export function addRelease(
  map: ReleaseMap,
  release: ReleaseMapping,
  options: { replace?: boolean } = {},
): ReleaseMap {
  const entry = validateReleaseMapping(release);
  const existing = map.releases.find(
    (r) => r.app.name === entry.app.name && r.app.version === entry.app.version,
  );
  if (existing && !options.replace && stableJson(existing) !== stableJson(entry)) {
    throw new GreenlightError({
      what: 'record the release',
      reason: `${entry.app.name} ${entry.app.version} is already recorded with chart ${existing.chart.version} and ${existing.image.digest}`,
      hint: 'a released version never changes: release a new version instead',
    });
  }
  const others = map.releases.filter((r) => r !== existing);
  return { schemaVersion: 1, releases: [...others, entry].sort(compareReleases) };
}

/** An empty map. */
export function emptyReleaseMap(): ReleaseMap {
  return { schemaVersion: 1, releases: [] };
}

/** The release of an app version, if recorded. */
export function findRelease(map: ReleaseMap, app: string, version: string): ReleaseMapping | undefined {
  const clean = cleanVersion(version) ?? version;
  return map.releases.find((r) => r.app.name === app && r.app.version === clean);
}

/** The app versions that shipped with a chart version. */
export function releasesOfChart(map: ReleaseMap, chart: string, version: string): ReleaseMapping[] {
  return map.releases.filter((r) => r.chart.name === chart && r.chart.version === version);
}

/** JSON with object keys sorted at every level, two-space indented, ending in a newline: the stable form. */
export function stableJson(value: unknown): string {
  const sortKeys = (item: unknown): unknown => {
    if (Array.isArray(item)) return item.map(sortKeys);
    if (item !== null && typeof item === 'object') {
      return Object.fromEntries(
        Object.entries(item as Record<string, unknown>)
          .filter(([, v]) => v !== undefined)
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([k, v]) => [k, sortKeys(v)]),
      );
    }
    return item;
  };
  return `${JSON.stringify(sortKeys(value), null, 2)}\n`;
}

/** The stable JSON form of a map: releases newest first, keys sorted. */
export function serializeReleaseMap(map: ReleaseMap): string {
  const releases = map.releases
    .map((r, i) => validateReleaseMapping(r, `releases[${i}]`))
    .sort(compareReleases);
  return stableJson({ schemaVersion: RELEASE_MAP_SCHEMA_VERSION, releases });
}

/** Parses and validates the JSON form; every problem names the path (`releases[2].image.digest`). */
export function parseReleaseMap(json: string): ReleaseMap {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    invalid('JSON', error instanceof Error ? error.message : String(error));
  }
  const root = field(parsed, 'root');
  if (root.schemaVersion !== RELEASE_MAP_SCHEMA_VERSION) {
    invalid(
      'schemaVersion',
      `must be ${RELEASE_MAP_SCHEMA_VERSION}, found ${JSON.stringify(root.schemaVersion)}`,
    );
  }
  if (!Array.isArray(root.releases)) invalid('releases', 'must be a list');
  const releases = root.releases.map((r: unknown, i: number) => validateReleaseMapping(r, `releases[${i}]`));
  const seen = new Set<string>();
  for (const [i, r] of releases.entries()) {
    const key = `${r.app.name}@${r.app.version}`;
    if (seen.has(key)) invalid(`releases[${i}]`, `${r.app.name} ${r.app.version} appears twice`);
    seen.add(key);
  }
  return { schemaVersion: 1, releases: releases.sort(compareReleases) };
}
