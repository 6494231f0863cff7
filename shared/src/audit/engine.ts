import { createHash } from 'node:crypto';
import type { FieldPath } from '../chart/types.ts';
import { GreenlightError } from '../runtime/errors.ts';
import type { ReleaseMap } from '../version/release-map.ts';
import type { ChartInfo } from './charts.ts';
import type { AuditConfig, Suppression } from './config.ts';
import { buildContext } from './context.ts';
import {
  type AuditNote,
  type AuditObject,
  type AuditResult,
  type Finding,
  type Report,
  type Rule,
  SEVERITY_RANK,
  type SuppressedFinding,
} from './types.ts';

export interface EngineOptions {
  rules: readonly Rule[];
  config: AuditConfig;
  /** The target Kubernetes minor version (of 1.x). */
  kubernetesMinor: number;
  mode?: 'static' | 'live';
  now?: Date;
  /** Chart folders for the versioning rules. */
  charts?: readonly ChartInfo[];
  releaseMap?: ReleaseMap;
  /** Fingerprints of accepted findings (see baseline.ts); matching findings are counted, not reported. */
  baseline?: ReadonlySet<string>;
}

/** A field path as people read it, with list items named where they have a name: `spec.containers[web].image`. */
export function formatField(object: unknown, path: FieldPath): string {
  let current: unknown = object;
  let text = '';
  for (const segment of path) {
    const next: unknown =
      current !== null && typeof current === 'object'
        ? (current as Record<string | number, unknown>)[segment]
        : undefined;
    if (typeof segment === 'number') {
      const name = next !== null && typeof next === 'object' ? (next as { name?: unknown }).name : undefined;
      text += typeof name === 'string' ? `[${name}]` : `[${segment}]`;
    } else {
      text += text === '' ? segment : `.${segment}`;
    }
    current = next;
  }
  return text;
}

/**
 * The identity a fingerprint uses: the object itself, except for a pod a controller owns, whose generated name
 * changes with every restart; its owner stands in for it, so a baseline of live findings keeps matching.
 */
function stableIdentity(target: AuditObject, object: Finding['object']): Finding['object'] {
  if (object.kind !== 'Pod') return object;
  const owner =
    target.object.metadata?.ownerReferences?.find((reference) => reference.controller) ??
    target.object.metadata?.ownerReferences?.[0];
  return owner ? { kind: `Pod of ${owner.kind}`, name: owner.name, namespace: object.namespace } : object;
}

/** The fingerprint of a finding: stable while the rule, the object and the field stay the same. */
export function findingFingerprint(ruleId: string, object: Finding['object'], field: string): string {
  const key = [ruleId, object.kind, object.namespace ?? '', object.name, field].join('\u0000');
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

function globMatches(pattern: string, text: string, caseInsensitive = false): boolean {
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`, caseInsensitive ? 'i' : '').test(text);
}

/** True when a suppression's `object` pattern (`Kind/name` or `Kind/namespace/name`) names the finding's object. */
function objectMatches(pattern: string, object: Finding['object']): boolean {
  const parts = pattern.split('/');
  const [kind, a, b] = parts;
  if (kind === undefined || !globMatches(kind, object.kind, true)) return false;
  if (parts.length === 2) return globMatches(a ?? '', object.name);
  if (parts.length === 3)
    return globMatches(a ?? '', object.namespace ?? '') && globMatches(b ?? '', object.name);
  return false;
}

function fileMatches(pattern: string, file: string | undefined): boolean {
  if (file === undefined) return false;
  if (pattern.endsWith('/')) return file.startsWith(pattern);
  return globMatches(pattern, file);
}

/** True when `suppression` covers `finding` (expiry is checked separately). */
export function suppressionMatches(suppression: Suppression, finding: Finding): boolean {
  if (suppression.rule !== finding.ruleId) return false;
  if (suppression.object !== undefined && !objectMatches(suppression.object, finding.object)) return false;
  if (suppression.file !== undefined && !fileMatches(suppression.file, finding.file)) return false;
  return true;
}

/** True when the suppression's expiry day (UTC) has passed at `now`. */
export function isExpired(suppression: Suppression, now: Date): boolean {
  if (!suppression.expires) return false;
  return now.getTime() >= Date.parse(`${suppression.expires}T00:00:00Z`) + 86_400_000;
}

/** Orders findings worst first, then by file, line and rule. */
export function compareFindings(a: Finding, b: Finding): number {
  return (
    SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
    (a.file ?? '\uffff').localeCompare(b.file ?? '\uffff') ||
    (a.line ?? 0) - (b.line ?? 0) ||
    a.ruleId.localeCompare(b.ruleId) ||
    a.object.name.localeCompare(b.object.name)
  );
}

/** The rules that run in `mode` under `config` (not `off`, and meant for that mode). */
export function activeRules(rules: readonly Rule[], config: AuditConfig, mode: 'static' | 'live'): Rule[] {
  return rules.filter(
    (rule) => config.rules[rule.id] !== 'off' && (rule.mode === 'both' || rule.mode === mode),
  );
}

/** Runs the active rules over the objects and returns every finding, before suppressions and the baseline. */
export function evaluate(objects: readonly AuditObject[], options: EngineOptions): Finding[] {
  const mode = options.mode ?? 'static';
  const now = options.now ?? new Date();
  const context = buildContext(objects, {
    config: options.config,
    kubernetesMinor: options.kubernetesMinor,
    mode,
    now,
    charts: options.charts,
    releaseMap: options.releaseMap,
  });
  const raw: Finding[] = [];
  for (const rule of activeRules(options.rules, options.config, mode)) {
    const override = options.config.rules[rule.id];
    const severity = override && override !== 'off' ? override : rule.severity;
    let reports: Report[];
    try {
      reports = [...rule.check(context)];
    } catch (error) {
      throw new GreenlightError({
        what: `audit rule ${rule.id}`,
        reason: error instanceof Error ? error.message : String(error),
        hint: `this is a bug in the rule; disable it with \`rules: { ${rule.id}: off }\` in the audit config and report it`,
        cause: error,
      });
    }
    for (const report of reports) {
      const metadata = report.target.object.metadata;
      const object = {
        apiVersion: report.target.object.apiVersion,
        kind: report.target.object.kind ?? '',
        name: metadata?.name ?? '',
        namespace: metadata?.namespace || undefined,
      };
      const place = report.target.locate?.(report.path) ?? report.target.source;
      const field = formatField(report.target.object, report.path);
      const value = report.target.valueSource?.(report.path);
      raw.push({
        ruleId: rule.id,
        severity,
        title: rule.title,
        message: report.message,
        object,
        file: place?.file,
        line: place?.line,
        field,
        ...(value ? { value } : {}),
        fingerprint: findingFingerprint(rule.id, stableIdentity(report.target, object), field),
      });
    }
  }
  return raw;
}

/** What the policy (suppressions and baseline) makes of raw findings. */
export interface PolicyOutcome {
  findings: Finding[];
  suppressed: SuppressedFinding[];
  baselined: number;
  notes: AuditNote[];
}

/**
 * Applies suppressions (an expired one no longer applies, and a note says so; one that matched nothing gets a
 * note too) and the baseline, and sorts findings worst first. `ranRules` are the IDs of the rules that ran, so a
 * suppression of a rule that did not run is not called unused.
 */
export function applyPolicy(
  raw: readonly Finding[],
  options: Pick<EngineOptions, 'config' | 'baseline' | 'now'>,
  ranRules: ReadonlySet<string>,
): PolicyOutcome {
  const now = options.now ?? new Date();
  const notes: AuditNote[] = [];
  const findings: Finding[] = [];
  const suppressed: SuppressedFinding[] = [];
  const used = new Set<Suppression>();
  const expiredNoted = new Set<Suppression>();
  let baselined = 0;
  for (const finding of raw) {
    const matching = options.config.suppressions.filter((suppression) =>
      suppressionMatches(suppression, finding),
    );
    const live = matching.find((suppression) => !isExpired(suppression, now));
    for (const suppression of matching) used.add(suppression);
    if (live) {
      suppressed.push({ ...finding, reason: live.reason, expires: live.expires });
      continue;
    }
    for (const expired of matching) {
      if (expiredNoted.has(expired)) continue;
      expiredNoted.add(expired);
      notes.push({
        level: 'warning',
        message: `the suppression of ${expired.rule}${expired.object ? ` for ${expired.object}` : ''} expired on ${expired.expires} ("${expired.reason}"); its findings are reported again`,
        file: expired.source?.file,
        line: expired.source?.line,
      });
    }
    if (options.baseline?.has(finding.fingerprint)) {
      baselined += 1;
      continue;
    }
    findings.push(finding);
  }
  for (const suppression of options.config.suppressions) {
    if (used.has(suppression) || !ranRules.has(suppression.rule)) continue;
    notes.push({
      level: 'notice',
      message: `the suppression of ${suppression.rule}${suppression.object ? ` for ${suppression.object}` : ''} matched no finding; remove it if the problem is fixed`,
      file: suppression.source?.file,
      line: suppression.source?.line,
    });
  }
  findings.sort(compareFindings);
  suppressed.sort(compareFindings);
  return { findings, suppressed, baselined, notes };
}

/** Runs the rules over the objects and applies the policy: the whole audit of one set of objects. */
export function runRules(objects: readonly AuditObject[], options: EngineOptions): AuditResult {
  const mode = options.mode ?? 'static';
  const rules = activeRules(options.rules, options.config, mode);
  const raw = evaluate(objects, options);
  const outcome = applyPolicy(raw, options, new Set(rules.map((rule) => rule.id)));
  return { ...outcome, objects: objects.length, rules, kubernetesVersion: `1.${options.kubernetesMinor}` };
}
