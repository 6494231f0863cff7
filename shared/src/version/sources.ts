// Version files: where an app keeps its version when the release is not a git tag.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GreenlightError } from '../runtime/errors.ts';
import { parseChartYaml } from './chart-file.ts';
import { parseReleaseFile } from './release-file.ts';
import { cleanVersion, semverProblem } from './semver.ts';

/** The version files looked for, in order. */
export const VERSION_FILES = ['RELEASE.txt', 'package.json', 'Chart.yaml'] as const;

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new GreenlightError({
      what: `read ${path}`,
      reason: `cannot read it: ${(error as NodeJS.ErrnoException).code ?? error}`,
      file: path,
      cause: error,
    });
  }
}

/** The version of a package.json: its `version` field, checked as SemVer, with its line on error. */
export function packageJsonVersion(text: string, file = 'package.json'): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new GreenlightError({
      what: `read ${file}`,
      reason: `it is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
      file,
      cause: error,
    });
  }
  const version = (parsed as { version?: unknown } | null)?.version;
  if (version === undefined) return undefined;
  const line = text.slice(0, Math.max(text.indexOf('"version"'), 0)).split('\n').length;
  const clean = typeof version === 'string' ? cleanVersion(version) : undefined;
  if (!clean) {
    throw new GreenlightError({
      what: `read ${file}`,
      reason: `line ${line}: "version" ${typeof version === 'string' ? semverProblem(version) : 'must be a string'}`,
      file,
      line,
    });
  }
  return clean;
}

/**
 * Reads the app version from the first version file in `dir`: RELEASE.txt (see parseReleaseFile), then
 * package.json's `version`, then Chart.yaml's `appVersion` (or its `version` when it has no appVersion, for a
 * chart-only repository). Returns undefined when none is there or none holds a version; a malformed one is an
 * error with file and line.
 */
export async function readVersionFile(dir: string): Promise<{ source: string; version: string } | undefined> {
  const release = await readIfPresent(join(dir, 'RELEASE.txt'));
  if (release !== undefined) {
    return { source: 'RELEASE.txt', version: parseReleaseFile(release, join(dir, 'RELEASE.txt')).version };
  }
  const pkg = await readIfPresent(join(dir, 'package.json'));
  if (pkg !== undefined) {
    const version = packageJsonVersion(pkg, join(dir, 'package.json'));
    if (version) return { source: 'package.json', version };
  }
  const chartText = await readIfPresent(join(dir, 'Chart.yaml'));
  if (chartText !== undefined) {
    const chart = parseChartYaml(chartText, join(dir, 'Chart.yaml'));
    if (chart.appVersion !== undefined) {
      const version = cleanVersion(chart.appVersion);
      if (version) return { source: 'Chart.yaml appVersion', version };
      throw new GreenlightError({
        what: `read ${join(dir, 'Chart.yaml')}`,
        reason: `appVersion: ${semverProblem(chart.appVersion)}`,
        hint: 'to release from Chart.yaml, its appVersion must be a semantic version',
        file: join(dir, 'Chart.yaml'),
      });
    }
    return { source: 'Chart.yaml version', version: chart.version };
  }
  return undefined;
}
