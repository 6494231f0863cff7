import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { isMap, isScalar, isSeq, LineCounter, type Node, parseAllDocuments, parseDocument } from 'yaml';
import { GreenlightError } from '../runtime/errors.ts';
import { type HelmOptions, runHelm } from './helm.ts';
import { displayPath, lineInYaml } from './manifests.ts';
import { TemplateLines } from './template-lines.ts';
import type { FieldPath, RenderedObject, SourceLocation } from './types.ts';

/** What to render: a chart and its values, as `helm template` takes them. */
export interface RenderOptions extends HelmOptions {
  /** A chart folder, a packaged chart (.tgz), an `oci://` reference or `repo/chart`. */
  chart: string;
  /** The release name the templates see as `.Release.Name`. Default: `release`. */
  releaseName?: string;
  /** The namespace the templates see as `.Release.Namespace`. */
  namespace?: string;
  /** Values files, in order (later ones win). Relative paths are resolved against `root`. */
  valuesFiles?: readonly string[];
  /** `--set` values, `path=value` each. */
  set?: readonly string[];
  /** The chart version, for references to a registry or repository. */
  version?: string;
  /** The Kubernetes version the templates see as `.Capabilities.KubeVersion` (`1.33` or `v1.33.0`). */
  kubeVersion?: string;
  /** Extra API versions for `.Capabilities.APIVersions`. */
  apiVersions?: readonly string[];
  /** Also render the chart's `crds/` folder. */
  includeCrds?: boolean;
  /** Pull an `oci://` chart over plain HTTP (a local registry without TLS). */
  plainHttp?: boolean;
  /** The repository root: file paths in sources are relative to it. Default: the working directory. */
  root?: string;
}

/** The arguments `helm template` gets for `options`; the same for Helm 3 and Helm 4. */
export function templateArgs(options: RenderOptions): string[] {
  const root = options.root ?? process.cwd();
  const args = ['template', options.releaseName ?? 'release', chartArgument(options.chart, root)];
  if (options.namespace) args.push('--namespace', options.namespace);
  for (const file of options.valuesFiles ?? []) args.push('--values', resolve(root, file));
  for (const value of options.set ?? []) args.push('--set', value);
  if (options.version) args.push('--version', options.version);
  if (options.kubeVersion) args.push('--kube-version', options.kubeVersion);
  for (const api of options.apiVersions ?? []) args.push('--api-versions', api);
  if (options.includeCrds) args.push('--include-crds');
  if (options.plainHttp) args.push('--plain-http');
  return args;
}

function isRemote(chart: string): boolean {
  return /^(oci|https?):\/\//.test(chart);
}

function chartArgument(chart: string, root: string): string {
  if (isRemote(chart)) return chart;
  const local = resolve(root, chart);
  return existsSync(local) ? local : chart;
}

/**
 * Renders a chart with the real `helm template` (Helm 3 or 4) and returns its objects, each with the template
 * file it came from (relative to `root`) and the line of its `kind:`, and a `locate` that maps a field back to
 * its template line. Throws a GreenlightError with helm's message (and the template line when helm names one).
 */
export async function renderChart(options: RenderOptions): Promise<RenderedObject[]> {
  const root = options.root ?? process.cwd();
  for (const file of options.valuesFiles ?? []) {
    if (!existsSync(resolve(root, file))) {
      throw new GreenlightError({
        what: `render ${options.chart}`,
        reason: `values file ${file} does not exist`,
        hint: 'values files are relative to the repository root',
      });
    }
  }
  const localDir = isRemote(options.chart) ? undefined : resolve(root, options.chart);
  const looksLikePath = /^(\.{0,2}\/|[^/]+$)|\/.*\//.test(options.chart);
  if (localDir && !existsSync(localDir) && looksLikePath) {
    throw new GreenlightError({
      what: `render ${options.chart}`,
      reason: 'no such chart folder',
      hint: 'give a chart folder relative to the repository root, an oci:// reference or repo/chart',
    });
  }
  const chartDir = localDir && existsSync(join(localDir, 'Chart.yaml')) ? localDir : undefined;
  let stdout: string;
  try {
    ({ stdout } = await runHelm(templateArgs(options), options));
  } catch (error) {
    throw chartDir ? withRepositoryPath(error, chartDir, root) : error;
  }
  // Helm's order, lowest precedence first: the chart's own values.yaml, then each values file.
  const values = chartDir
    ? valuesSources(
        [join(chartDir, 'values.yaml'), ...(options.valuesFiles ?? []).map((file) => resolve(root, file))],
        root,
        options.set ?? [],
      )
    : undefined;
  return parseRendered(stdout, { chartDir, root, values });
}

/** The values a chart renders with, highest precedence first: `--set` keys, then values files last to first. */
export interface ValuesSources {
  /** Dotted keys given with `--set` (they win over every file, and have no line). */
  setKeys: ReadonlySet<string>;
  files: { file: string; contents: Node | null; counter: LineCounter }[];
}

/** Reads values files (given in Helm's order: the chart's values.yaml first, later files win) for mapping fields back to the value that set them. */
export function valuesSources(
  files: readonly string[],
  root: string,
  set: readonly string[] = [],
): ValuesSources {
  const read: ValuesSources['files'] = [];
  for (const file of [...files].reverse()) {
    if (!existsSync(file)) continue;
    const counter = new LineCounter();
    const document = parseDocument(readFileSync(file, 'utf8'), { lineCounter: counter });
    if (document.errors.length > 0) continue;
    read.push({ file: displayPath(file, root), contents: document.contents as Node | null, counter });
  }
  const setKeys = new Set(set.map((entry) => entry.split('=')[0]?.trim() ?? '').filter(Boolean));
  return { setKeys, files: read };
}

/**
 * Where the values behind a template line are set: the highest-precedence file that defines one of `paths` (a
 * user's values file before the chart's defaults), trying the paths in order within each file. Undefined when
 * one of them was given with `--set`, which has no line.
 */
function valueLocation(
  values: ValuesSources,
  paths: readonly (readonly string[])[],
): SourceLocation | undefined {
  // A value given with --set may be what matters on this line; rather than point at a wrong line, point nowhere.
  if (paths.some((path) => values.setKeys.has(path.join('.')))) return undefined;
  for (const entry of values.files) {
    const path = paths.find((candidate) => hasPath(entry.contents, candidate));
    if (!path) continue;
    const fieldPath = path.map((key) => (/^\d+$/.test(key) ? Number(key) : key));
    return { file: entry.file, line: lineInYaml(entry.contents, fieldPath, entry.counter) };
  }
  return undefined;
}

function hasPath(node: unknown, path: readonly string[]): boolean {
  let current = node;
  for (const key of path) {
    if (isSeq(current) && /^\d+$/.test(key)) {
      current = current.items[Number(key)];
      if (current === undefined) return false;
      continue;
    }
    if (!isMap(current)) return false;
    const pair = current.items.find((item) => isScalar(item.key) && String(item.key.value) === key);
    if (!pair) return false;
    current = pair.value;
  }
  return true;
}

/** Rewrites the `chart/templates/x.yaml` a helm error names into the template's path in the repository. */
function withRepositoryPath(error: unknown, chartDir: string, root: string): unknown {
  if (!(error instanceof GreenlightError) || !error.file) return error;
  const onDisk = join(chartDir, error.file.split('/').slice(1).join('/'));
  if (!existsSync(onDisk)) return error;
  return new GreenlightError({
    what: error.what,
    reason: error.reason,
    hint: error.hint,
    object: error.object,
    file: displayPath(onDisk, root),
    line: error.line,
    cause: error,
  });
}

/** Where the templates of a rendered chart live, to turn helm's `# Source:` paths into repository paths. */
export interface RenderedSourceContext {
  /** The chart folder on disk; without it, sources are helm's own `chart/templates/x.yaml` paths, with no line. */
  chartDir?: string;
  root?: string;
  /** The values the chart rendered with, to point a field at the values line that set it. */
  values?: ValuesSources;
}

const SOURCE_COMMENT = /(?:^|\n)\s*Source:\s*(\S.*?)\s*(?:\n|$)/;

/**
 * Parses `helm template` output: one object per document, its template taken from helm's `# Source:` comment.
 * Exported for callers that already hold helm's output.
 */
export function parseRendered(output: string, context: RenderedSourceContext = {}): RenderedObject[] {
  const root = context.root ?? process.cwd();
  const counter = new LineCounter();
  const templates = new Map<string, { file: string; lines?: TemplateLines }>();
  const occurrences = new Map<string, number>();
  const out: RenderedObject[] = [];
  for (const doc of parseAllDocuments(output, { lineCounter: counter, uniqueKeys: false })) {
    const first = doc.errors[0];
    const comments = `${doc.commentBefore ?? ''}\n${(doc.contents as Node | null)?.commentBefore ?? ''}`;
    const sourcePath = SOURCE_COMMENT.exec(comments)?.[1];
    if (first) {
      throw new GreenlightError({
        what: 'read helm template output',
        reason: `a document${sourcePath ? ` from ${sourcePath}` : ''} is not valid YAML: ${first.message.split('\n')[0]}`,
        hint: 'the template renders broken YAML: check its indentation (nindent) and quoting',
      });
    }
    const value: unknown = doc.toJS({ maxAliasCount: 1000 });
    if (!isObject(value)) continue;
    const template = sourcePath ? templateFor(sourcePath, context.chartDir, root, templates) : undefined;
    const kind = value.kind ?? '';
    const key = `${sourcePath ?? ''}\u0000${kind}`;
    const occurrence = occurrences.get(key) ?? 0;
    occurrences.set(key, occurrence + 1);
    const file = template?.file ?? sourcePath ?? '<helm output>';
    const lines = template?.lines;
    const source: SourceLocation = lines ? { file, line: lines.objectLine(kind, occurrence) } : { file };
    const locate = (path: FieldPath): SourceLocation =>
      lines ? { file, line: lines.locate(kind, occurrence, path, value) } : { ...source };
    // Values reach the chart's own templates; a subchart's templates read the subchart's values.
    const values =
      lines && context.values && sourcePath?.split('/')[1] === 'templates' ? context.values : undefined;
    const valueSource = values
      ? (path: FieldPath): SourceLocation | undefined => {
          const template = lines as TemplateLines;
          const { line, matched } = template.locateDepth(kind, occurrence, path, value);
          const rest = path.slice(matched).map(String);
          // `toYaml .Values.resources` under `resources:`: the field's own key inside that value, else the value.
          const candidates = template
            .valueReferencesAt(line)
            .flatMap((reference) => (rest.length > 0 ? [[...reference, ...rest], reference] : [reference]));
          return valueLocation(values, candidates);
        }
      : undefined;
    out.push(
      valueSource ? { object: value, source, locate, valueSource } : { object: value, source, locate },
    );
  }
  return out;
}

function templateFor(
  sourcePath: string,
  chartDir: string | undefined,
  root: string,
  cache: Map<string, { file: string; lines?: TemplateLines }>,
): { file: string; lines?: TemplateLines } {
  const cached = cache.get(sourcePath);
  if (cached) return cached;
  let entry: { file: string; lines?: TemplateLines } = { file: sourcePath };
  if (chartDir) {
    // helm names sources `<chart name>/templates/x.yaml`, or `<chart>/charts/<sub>/templates/x.yaml` for subcharts.
    const withinChart = sourcePath.split('/').slice(1).join('/');
    const onDisk = join(chartDir, withinChart);
    if (withinChart && existsSync(onDisk)) {
      entry = { file: displayPath(onDisk, root), lines: new TemplateLines(readFileSync(onDisk, 'utf8')) };
    }
  }
  cache.set(sourcePath, entry);
  return entry;
}

function isObject(value: unknown): value is KubernetesObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const record = value as Record<string, unknown>;
  return typeof record.apiVersion === 'string' && typeof record.kind === 'string';
}
