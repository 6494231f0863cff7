import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { type Document, isMap, isScalar, isSeq, LineCounter, type Node, parseAllDocuments } from 'yaml';
import { GreenlightError } from '../runtime/errors.ts';
import type { FieldPath, RenderedObject, SourceLocation } from './types.ts';

const MANIFEST_EXTENSIONS = ['.yaml', '.yml', '.json'];

/** A file path as annotations and reports show it: relative to `root` when inside it, with forward slashes. */
export function displayPath(file: string, root: string = process.cwd()): string {
  const absolute = resolve(root, file);
  const rel = relative(root, absolute);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return absolute.split(sep).join('/');
  return rel.split(sep).join('/');
}

function lineOf(node: Node | null | undefined, counter: LineCounter): number | undefined {
  const start = node?.range?.[0];
  return start === undefined ? undefined : counter.linePos(start).line;
}

/** The line of the deepest node along `path` that exists in `root`, or undefined when not even the root has one. */
export function lineInYaml(
  root: Node | null | undefined,
  path: FieldPath,
  counter: LineCounter,
): number | undefined {
  let node: unknown = root;
  let line = lineOf(root, counter);
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find(
        (item) => isScalar(item.key) && String(item.key.value) === String(segment),
      );
      if (!pair) break;
      line = lineOf(pair.key as Node, counter) ?? line;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment] as Node | undefined;
      if (!item) break;
      line = lineOf(item, counter) ?? line;
      node = item;
    } else {
      break;
    }
  }
  return line;
}

function isKubernetesObject(value: unknown): value is KubernetesObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const record = value as Record<string, unknown>;
  return typeof record.apiVersion === 'string' && typeof record.kind === 'string';
}

function yamlError(file: string, doc: Document.Parsed, counter: LineCounter): GreenlightError | undefined {
  const first = doc.errors[0];
  if (!first) return undefined;
  const line = first.linePos?.[0]?.line ?? counter.linePos(first.pos[0]).line;
  return new GreenlightError({
    what: `read ${file}`,
    reason: `not valid YAML at line ${line}: ${first.message.split('\n')[0]}`,
    hint: 'fix the YAML syntax; `helm lint` or any YAML linter shows the same position',
    file,
    line,
  });
}

/**
 * Parses a multi-document YAML (or JSON) text into Kubernetes objects with their real line numbers. Documents
 * without `apiVersion` and `kind` (values files, kustomizations, empty documents) are skipped; a `List` is
 * expanded into its items. `file` is the path reports show. Throws a GreenlightError at the line of a syntax error.
 */
export function parseManifests(text: string, file: string): RenderedObject[] {
  const counter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: counter, uniqueKeys: false });
  const out: RenderedObject[] = [];
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    const error = yamlError(file, doc, counter);
    if (error) throw error;
    const value: unknown = doc.toJS({ maxAliasCount: 1000 });
    const contents = doc.contents as Node | null;
    const push = (object: KubernetesObject, prefix: FieldPath) => {
      const locate = (path: FieldPath): SourceLocation => ({
        file,
        line: lineInYaml(contents, [...prefix, ...path], counter),
      });
      out.push({ object, source: locate([]), locate });
    };
    if (!isKubernetesObject(value)) continue;
    if (
      value.kind === 'List' ||
      (value.kind?.endsWith('List') && Array.isArray((value as { items?: unknown }).items))
    ) {
      const items = (value as { items?: unknown[] }).items ?? [];
      items.forEach((item, index) => {
        if (isKubernetesObject(item)) push(item, ['items', index]);
      });
      continue;
    }
    push(value, []);
  }
  return out;
}

/** True when `dir` is a Helm chart (it holds a Chart.yaml). */
export function isChartDirectory(dir: string): boolean {
  return existsSync(join(dir, 'Chart.yaml'));
}

/** What a folder holds for an audit or a deploy: plain manifest files and chart folders, each sorted by path. */
export interface FolderContents {
  manifests: string[];
  charts: string[];
}

/**
 * Walks `dir` for manifest files (.yaml, .yml, .json) and chart folders. A chart folder is reported once and not
 * walked into (its templates are not plain manifests); `node_modules` and dot-folders are skipped.
 */
export function scanFolder(dir: string): FolderContents {
  const contents: FolderContents = { manifests: [], charts: [] };
  const walk = (current: string) => {
    if (isChartDirectory(current)) {
      contents.charts.push(current);
      return;
    }
    const entries = readdirSync(current, { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name),
    );
    for (const entry of entries) {
      const full = join(current, entry.name);
      if (entry.isDirectory()) {
        if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
        walk(full);
      } else if (MANIFEST_EXTENSIONS.some((ext) => entry.name.endsWith(ext))) {
        contents.manifests.push(full);
      }
    }
  };
  walk(dir);
  return contents;
}

/**
 * Loads plain manifest files and folders (walked recursively; chart folders inside are left out, see
 * scanFolder). File paths in the result are relative to `root`. Throws a GreenlightError naming a path that does
 * not exist or a file that is not valid YAML.
 */
export function loadManifests(paths: readonly string[], root: string = process.cwd()): RenderedObject[] {
  const out: RenderedObject[] = [];
  for (const path of paths) {
    const absolute = resolve(root, path);
    if (!existsSync(absolute)) {
      throw new GreenlightError({
        what: `read ${path}`,
        reason: 'no such file or folder',
        hint: 'paths are relative to the repository root (the working directory of the step)',
      });
    }
    const files = statSync(absolute).isDirectory() ? scanFolder(absolute).manifests : [absolute];
    for (const file of files)
      out.push(...parseManifests(readFileSync(file, 'utf8'), displayPath(file, root)));
  }
  return out;
}
