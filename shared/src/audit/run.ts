import { resolve } from 'node:path';
import { GreenlightError } from '../runtime/errors.ts';
import { NEWEST_KNOWN_MINOR, parseMinor } from './api-versions.ts';
import { loadBaseline } from './baseline.ts';
import { loadReleaseMap, planCharts, readChartInfo } from './charts.ts';
import { type AuditConfig, defaultConfig, loadConfig } from './config.ts';
import { activeRules, applyPolicy, evaluate } from './engine.ts';
import { ALL_RULES } from './rules/index.ts';
import { loadSources } from './sources.ts';
import type { AuditObject, AuditResult, Finding, Rule } from './types.ts';

/** Everything an audit needs, in the words of the action's inputs. */
export interface AuditOptions {
  /** Files, folders, charts to audit (static mode). */
  paths: readonly string[];
  valuesFiles?: readonly string[];
  set?: readonly string[];
  /** The target Kubernetes version (`1.33`); default: the cluster's in live mode, else the newest known. */
  kubernetesVersion?: string;
  /** The audit config file, relative to `root`. */
  config?: string;
  /** The baseline file, relative to `root`. */
  baseline?: string;
  /** A git ref to compare charts against: a chart that changed since must bump its version (GL-VER-003). */
  gitBase?: string;
  /** The repository root. */
  root: string;
  helm?: string;
  signal?: AbortSignal;
  now?: Date;
  rules?: readonly Rule[];
  /** Objects read from a live cluster, with the cluster's version; audited with the live rules. */
  live?: { objects: readonly AuditObject[]; kubernetesVersion?: string };
}

/** The target minor version: the input, else the cluster's, else the newest the rules know. */
export function targetMinor(input: string | undefined, cluster: string | undefined): number {
  if (input) {
    const minor = parseMinor(input);
    if (minor === undefined) {
      throw new GreenlightError({
        what: 'input `kubernetes-version`',
        reason: `"${input}" is not a Kubernetes version`,
        hint: 'write it as 1.33 or v1.33.2',
      });
    }
    return minor;
  }
  return (cluster ? parseMinor(cluster) : undefined) ?? NEWEST_KNOWN_MINOR;
}

/** Reads the config (or the defaults) with the IDs of `rules` as the known ones. */
export function readConfig(path: string | undefined, root: string, rules: readonly Rule[]): AuditConfig {
  if (!path) return defaultConfig();
  return loadConfig(
    resolve(root, path),
    path,
    rules.map((rule) => rule.id),
  );
}

/**
 * Runs an audit: reads the config and baseline, loads the files (rendering charts with helm), audits them and, when
 * given, the live objects, and returns one result with every finding worst first.
 */
export async function runAudit(options: AuditOptions): Promise<AuditResult> {
  const rules = options.rules ?? ALL_RULES;
  const config = readConfig(options.config, options.root, rules);
  const baseline = options.baseline
    ? loadBaseline(resolve(options.root, options.baseline), options.baseline)
    : undefined;
  const minor = targetMinor(options.kubernetesVersion, options.live?.kubernetesVersion);
  const engine = { rules, config, kubernetesMinor: minor, baseline, now: options.now };
  const raw: Finding[] = [];
  const ran = new Set<string>();
  let objects = 0;
  if (options.paths.length > 0) {
    const sources = await loadSources({
      paths: options.paths,
      valuesFiles: options.valuesFiles,
      set: options.set,
      root: options.root,
      kubeVersion: options.kubernetesVersion ? `v1.${minor}.0` : undefined,
      helm: options.helm,
      signal: options.signal,
    });
    const charts = sources.charts.map((dir) => readChartInfo(dir, options.root));
    if (options.gitBase) await planCharts(charts, sources.charts, options.root, options.gitBase);
    const releaseMap = config.releaseMap
      ? loadReleaseMap(resolve(options.root, config.releaseMap), config.releaseMap)
      : undefined;
    raw.push(...evaluate(sources.objects, { ...engine, mode: 'static', charts, releaseMap }));
    for (const rule of activeRules(rules, config, 'static')) ran.add(rule.id);
    objects += sources.objects.length;
  }
  if (options.live) {
    raw.push(...evaluate(options.live.objects, { ...engine, mode: 'live' }));
    for (const rule of activeRules(rules, config, 'live')) ran.add(rule.id);
    objects += options.live.objects.length;
  }
  const outcome = applyPolicy(raw, engine, ran);
  return {
    ...outcome,
    objects,
    rules: rules.filter((rule) => ran.has(rule.id)),
    kubernetesVersion: `1.${minor}`,
  };
}
