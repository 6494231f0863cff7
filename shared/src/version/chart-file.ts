// Chart.yaml read and written through the yaml package's Document API, so comments, quoting and key order
// survive an edit of `version` or `appVersion`.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as semver from 'semver';
import { type Document, isMap, isScalar, LineCounter, Pair, parseDocument, Scalar, type YAMLMap } from 'yaml';
import { GreenlightError } from '../runtime/errors.ts';
import { semverProblem } from './semver.ts';

/** One entry of `dependencies:`. */
export interface ChartDependency {
  name: string;
  /** A version or a range (`~12.1.0`, `^7`, `12.x`). */
  version: string;
  repository?: string;
  alias?: string;
  condition?: string;
}

/** The fields of a Chart.yaml that versioning reads. */
export interface ChartMetadata {
  apiVersion: string;
  name: string;
  version: string;
  appVersion?: string;
  type?: string;
  kubeVersion?: string;
  dependencies: ChartDependency[];
}

/** A parsed Chart.yaml: its fields, and the document to edit. */
export interface ChartFile extends ChartMetadata {
  file: string;
  document: Document;
}

function fail(file: string, reason: string, line?: number): never {
  throw new GreenlightError({
    what: `read ${file}`,
    reason: line === undefined ? reason : `line ${line}: ${reason}`,
    hint: 'see https://helm.sh/docs/topics/charts/#the-chartyaml-file for the fields',
    file,
    line,
  });
}

function lineOf(counter: LineCounter, node: unknown): number | undefined {
  const range = (node as { range?: [number, number, number] } | undefined)?.range;
  return range ? counter.linePos(range[0]).line : undefined;
}

function scalarText(
  map: YAMLMap,
  key: string,
  file: string,
  counter: LineCounter,
  required: boolean,
): string | undefined {
  const node = map.get(key, true);
  if (node === undefined || (isScalar(node) && (node.value === null || node.value === ''))) {
    if (required) fail(file, `the required field \`${key}\` is missing`, 1);
    return undefined;
  }
  if (!isScalar(node)) fail(file, `\`${key}\` must be a single value`, lineOf(counter, node));
  // The source text, so `version: 1.10` reads as "1.10" and not as the number 1.1.
  return typeof node.source === 'string' ? node.source : String(node.value);
}

/**
 * Parses Chart.yaml text. A YAML syntax error, a missing `apiVersion`, `name` or `version`, a `version` that is
 * not SemVer 2 (as Helm requires) or a malformed `dependencies` entry is a GreenlightError with the line.
 */
export function parseChartYaml(text: string, file = 'Chart.yaml'): ChartFile {
  const counter = new LineCounter();
  const document = parseDocument(text, {
    lineCounter: counter,
    prettyErrors: false,
    keepSourceTokens: false,
  });
  const [error] = document.errors;
  if (error) fail(file, error.message.split('\n')[0] as string, counter.linePos(error.pos[0]).line);
  const root = document.contents;
  if (!isMap(root)) fail(file, 'the file must be a mapping of fields (apiVersion, name, version, ...)', 1);
  const apiVersion = scalarText(root, 'apiVersion', file, counter, true) as string;
  if (apiVersion !== 'v1' && apiVersion !== 'v2') {
    fail(
      file,
      `apiVersion is "${apiVersion}", Helm charts use v2 (or v1)`,
      lineOf(counter, root.get('apiVersion', true)),
    );
  }
  const name = scalarText(root, 'name', file, counter, true) as string;
  const version = scalarText(root, 'version', file, counter, true) as string;
  const versionNode = root.get('version', true);
  if (semverProblemOrNone(version)) {
    fail(
      file,
      `version: ${semverProblem(version)}; Helm chart versions are SemVer 2`,
      lineOf(counter, versionNode),
    );
  }
  const chart: ChartFile = { file, document, apiVersion, name, version, dependencies: [] };
  const appVersion = scalarText(root, 'appVersion', file, counter, false);
  if (appVersion !== undefined) chart.appVersion = appVersion;
  const type = scalarText(root, 'type', file, counter, false);
  if (type !== undefined) chart.type = type;
  const kubeVersion = scalarText(root, 'kubeVersion', file, counter, false);
  if (kubeVersion !== undefined) chart.kubeVersion = kubeVersion;

  const dependencies = root.get('dependencies', true);
  if (dependencies !== undefined && !(isScalar(dependencies) && dependencies.value === null)) {
    const items = (dependencies as { items?: unknown[] }).items;
    if (!Array.isArray(items) || isMap(dependencies)) {
      fail(file, '`dependencies` must be a list', lineOf(counter, dependencies));
    }
    for (const item of items) {
      if (!isMap(item))
        fail(file, 'each dependency must be a mapping with name and version', lineOf(counter, item));
      const dependency: ChartDependency = {
        name:
          scalarText(item, 'name', file, counter, false) ??
          fail(file, 'a dependency has no name', lineOf(counter, item)),
        version:
          scalarText(item, 'version', file, counter, false) ??
          fail(file, 'a dependency has no version', lineOf(counter, item)),
      };
      for (const key of ['repository', 'alias', 'condition'] as const) {
        const value = scalarText(item, key, file, counter, false);
        if (value !== undefined) dependency[key] = value;
      }
      chart.dependencies.push(dependency);
    }
  }
  return chart;
}

/** True unless `version` is plain SemVer 2 (no leading `v`), as Helm chart versions must be. */
function semverProblemOrNone(version: string): boolean {
  return !/^\d/.test(version) || version !== version.trim() || semver.valid(version) === null;
}

/** The changes `updateChartYaml` can make. */
export interface ChartEdit {
  version?: string;
  appVersion?: string;
}

function setScalar(root: YAMLMap, key: string, value: string, after: string): void {
  const node = root.get(key, true);
  if (isScalar(node)) {
    node.value = value;
    return;
  }
  const scalar = new Scalar(value);
  scalar.type = Scalar.QUOTE_DOUBLE;
  const pair = new Pair(new Scalar(key), scalar);
  const index = root.items.findIndex((item) => isScalar(item.key) && item.key.value === after);
  root.items.splice(index === -1 ? root.items.length : index + 1, 0, pair);
}

/**
 * Sets `version` and/or `appVersion` in Chart.yaml text and returns the new text. Comments, quoting, key order
 * and everything else are kept; a new `appVersion` goes right after `version`, double-quoted as Helm advises.
 */
export function updateChartYaml(text: string, edit: ChartEdit, file = 'Chart.yaml'): string {
  const chart = parseChartYaml(text, file);
  const root = chart.document.contents as YAMLMap;
  if (edit.version !== undefined) {
    if (semverProblemOrNone(edit.version)) {
      throw new GreenlightError({
        what: `set the version of ${file}`,
        reason: semverProblem(edit.version),
        file,
      });
    }
    setScalar(root, 'version', edit.version, 'name');
  }
  if (edit.appVersion !== undefined) setScalar(root, 'appVersion', edit.appVersion, 'version');
  return chart.document.toString({ lineWidth: 0 });
}

/** Reads `<dir>/Chart.yaml`. */
export async function readChart(dir: string): Promise<ChartFile> {
  const file = join(dir, 'Chart.yaml');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new GreenlightError({
      what: `read ${file}`,
      reason: `cannot read it: ${(error as NodeJS.ErrnoException).code ?? error}`,
      hint: 'point at the chart directory, the one that holds Chart.yaml',
      file,
      cause: error,
    });
  }
  return parseChartYaml(text, file);
}

/** Edits `<dir>/Chart.yaml` in place (see updateChartYaml) and returns the new text. */
export async function writeChart(dir: string, edit: ChartEdit): Promise<string> {
  const file = join(dir, 'Chart.yaml');
  const text = updateChartYaml(await readFile(file, 'utf8'), edit, file);
  await writeFile(file, text);
  return text;
}
