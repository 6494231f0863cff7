import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { displayPath, isChartDirectory, parseManifests, scanFolder } from '../chart/manifests.ts';
import { renderChart } from '../chart/render.ts';
import type { RenderedObject } from '../chart/types.ts';
import { GreenlightError } from '../runtime/errors.ts';

/** What to read for a static audit, as the action's inputs give it. */
export interface SourceOptions {
  /** Files, folders, chart folders, packaged charts (.tgz) or `oci://` references. */
  paths: readonly string[];
  /** Values files for every chart, in order. */
  valuesFiles?: readonly string[];
  /** `--set` values for every chart. */
  set?: readonly string[];
  /** The repository root; paths are relative to it. */
  root: string;
  /** The Kubernetes version charts render for (`.Capabilities.KubeVersion`). */
  kubeVersion?: string;
  helm?: string;
  signal?: AbortSignal;
}

/** The objects found, and the chart folders they include (for the versioning rules). */
export interface Sources {
  objects: RenderedObject[];
  /** Chart folders on disk, absolute. */
  charts: string[];
}

/**
 * The release name a chart renders with: its folder or reference name, so findings name `Deployment shop` rather
 * than a placeholder. Cut to a DNS label, as Helm requires.
 */
export function releaseNameFor(chart: string): string {
  const last =
    chart
      .replace(/[\\/]+$/, '')
      .split(/[\\/]/)
      .pop() ?? '';
  const base = last
    .replace(/[:@].*$/, '')
    .replace(/\.tgz$/, '')
    .replace(/-\d+\.\d+\.\d+.*$/, '');
  const label = base
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 53);
  return label || 'release';
}

/**
 * Reads every path: plain manifests with their lines, charts rendered by the real helm with their template lines.
 * A folder may hold both; chart folders inside it are rendered, not read as manifests.
 */
export async function loadSources(options: SourceOptions): Promise<Sources> {
  const objects: RenderedObject[] = [];
  const charts: string[] = [];
  const render = async (chart: string) => {
    objects.push(
      ...(await renderChart({
        chart,
        releaseName: releaseNameFor(chart),
        root: options.root,
        valuesFiles: options.valuesFiles,
        set: options.set,
        kubeVersion: options.kubeVersion,
        helm: options.helm,
        signal: options.signal,
      })),
    );
  };
  for (const path of options.paths) {
    if (/^oci:\/\//.test(path)) {
      await render(path);
      continue;
    }
    const absolute = resolve(options.root, path);
    if (!existsSync(absolute)) {
      throw new GreenlightError({
        what: `read ${path}`,
        reason: 'no such file or folder',
        hint: 'each line of `path` is a file, a folder, a chart folder or an oci:// chart reference, relative to the repository root',
      });
    }
    if (statSync(absolute).isDirectory()) {
      if (isChartDirectory(absolute)) {
        charts.push(absolute);
        await render(absolute);
        continue;
      }
      const found = scanFolder(absolute);
      for (const file of found.manifests) {
        objects.push(...parseManifests(readFileSync(file, 'utf8'), displayPath(file, options.root)));
      }
      for (const chart of found.charts) {
        charts.push(chart);
        await render(chart);
      }
    } else if (/\.tgz$/.test(absolute)) {
      await render(absolute);
    } else {
      objects.push(...parseManifests(readFileSync(absolute, 'utf8'), displayPath(absolute, options.root)));
    }
  }
  return { objects, charts };
}
