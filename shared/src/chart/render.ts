import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { LineCounter, type Node, parseAllDocuments } from 'yaml';
import { GreenlightError } from '../runtime/errors.ts';
import { type HelmOptions, runHelm } from './helm.ts';
import { displayPath } from './manifests.ts';
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
  return parseRendered(stdout, { chartDir, root });
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
    out.push({ object: value, source, locate });
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
