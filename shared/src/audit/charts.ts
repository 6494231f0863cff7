import { readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { displayPath, lineInYaml } from '../chart/manifests.ts';
import { GreenlightError } from '../runtime/errors.ts';
import { type ChartFile, parseChartYaml } from '../version/chart-file.ts';
import { type ChartPlan, planChartFromGit } from '../version/chart-plan.ts';
import { parseReleaseMap, type ReleaseMap } from '../version/release-map.ts';
import type { AuditObject } from './types.ts';

/** A chart under audit for the versioning rules: its Chart.yaml, and its version plan against a git base. */
export interface ChartInfo {
  /** The chart as an object for findings: kind `Chart`, its name, located in Chart.yaml. */
  target: AuditObject;
  chart?: ChartFile;
  /** Why Chart.yaml cannot be read. */
  problem?: GreenlightError;
  /** The version the chart should have, planned from what changed since the git base. */
  plan?: ChartPlan;
}

/** Reads a chart folder's Chart.yaml into a ChartInfo; a file that cannot be read becomes `problem`. */
export function readChartInfo(dir: string, root: string): ChartInfo {
  const path = join(dir, 'Chart.yaml');
  const file = displayPath(path, root);
  const text = readFileSync(path, 'utf8');
  const counter = new LineCounter();
  const document = parseDocument(text, { lineCounter: counter });
  const name = String((document.toJS() as { name?: unknown } | null)?.name ?? dir.split(sep).pop());
  const locate = (fieldPath: readonly (string | number)[]) => ({
    file,
    line: lineInYaml(document.contents, fieldPath, counter),
  });
  try {
    const chart = parseChartYaml(text, file);
    return {
      target: {
        object: { apiVersion: chart.apiVersion, kind: 'Chart', metadata: { name } },
        source: locate([]),
        locate,
      },
      chart,
    };
  } catch (error) {
    if (!(error instanceof GreenlightError)) throw error;
    const source = { file, line: error.line ?? 1 };
    return { target: { object: { kind: 'Chart', metadata: { name } }, source }, problem: error };
  }
}

/** Plans each readable chart's version against `base` (a git ref); the working tree is the current chart. */
export async function planCharts(
  charts: readonly ChartInfo[],
  dirs: readonly string[],
  root: string,
  base: string,
): Promise<void> {
  for (const [index, info] of charts.entries()) {
    const dir = dirs[index];
    if (!info.chart || dir === undefined) continue;
    const chartPath = relative(root, dir).split(sep).join('/') || '.';
    info.plan = await planChartFromGit(root, chartPath, `${base}..`);
  }
}

/** Reads the release map named in the audit config. */
export function loadReleaseMap(path: string, displayName: string): ReleaseMap {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new GreenlightError({
      what: `read release map ${displayName}`,
      reason: (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String(error),
      hint: '`releaseMap` in the audit config is a path relative to the repository root',
      cause: error,
    });
  }
  return parseReleaseMap(text);
}
