import type { KubernetesObject } from '@kubernetes/client-node';
import type { FieldPath, SourceLocation } from '../chart/types.ts';
import type { AuditContext } from './context.ts';

/** How bad a finding is. `notice` never fails a run; `fail-on` picks between `error` and `warning`. */
export type Severity = 'error' | 'warning' | 'notice';

/** The families rules belong to; the middle part of a rule ID (`GL-RES-001`). */
export type Family =
  | 'resources'
  | 'probes'
  | 'images'
  | 'security'
  | 'availability'
  | 'networking'
  | 'data'
  | 'lifecycle'
  | 'versioning'
  | 'live';

/** An object under audit: read from a file (with its source) or from the cluster (without). */
export interface AuditObject {
  object: KubernetesObject;
  source?: SourceLocation;
  locate?(path: FieldPath): SourceLocation;
  /** For rendered charts: the values file line that set the field (see RenderedObject.valueSource). */
  valueSource?(path: FieldPath): SourceLocation | undefined;
}

/** What a rule reports: which object, which field (for the line), and what is wrong. */
export interface Report {
  target: AuditObject;
  /** The field the finding is about; for a missing field, its parent (the annotation lands on the parent's line). */
  path: FieldPath;
  message: string;
}

/** A rule: a stable ID, a default severity, a docs page, and a check over the whole audit context. */
export interface Rule {
  /** Stable forever: `GL-<FAMILY>-<NNN>`. Suppressions and baselines refer to it. */
  id: string;
  family: Family;
  /** A short name, shown in tables and SARIF. */
  title: string;
  severity: Severity;
  /** One sentence: why it matters. */
  why: string;
  /** One sentence: how to fix it. */
  fix: string;
  /** Runs on files, on the live cluster, or on both. */
  mode: 'static' | 'live' | 'both';
  check(context: AuditContext): Iterable<Report>;
}

/** The object a finding concerns, as a user would name it to kubectl. */
export interface FindingObject {
  apiVersion?: string;
  kind: string;
  name: string;
  namespace?: string;
}

/** A finding as reported: rule, severity after the config, object, place and message. */
export interface Finding {
  ruleId: string;
  severity: Severity;
  title: string;
  message: string;
  object: FindingObject;
  /** The file (relative to the repository) and line the finding points to, when it comes from a file. */
  file?: string;
  line?: number;
  /** The field, as `spec.template.spec.containers[web].resources`. */
  field: string;
  /** For rendered charts: the values file and line that set the field, when one did. */
  value?: SourceLocation;
  /** Stable across line moves and re-ordering: rule, object and field. Baselines match on it. */
  fingerprint: string;
}

/** A finding that a suppression in the config silenced, kept for the report. */
export interface SuppressedFinding extends Finding {
  reason: string;
  expires?: string;
}

/** A problem with the audit itself that is not a finding (an expired suppression, a rule that failed). */
export interface AuditNote {
  level: Severity;
  message: string;
  file?: string;
  line?: number;
}

/** The result of an audit, before reporting. */
export interface AuditResult {
  findings: Finding[];
  suppressed: SuppressedFinding[];
  /** Findings present in the baseline (not reported). */
  baselined: number;
  notes: AuditNote[];
  objects: number;
  rules: readonly Rule[];
  kubernetesVersion: string;
}

/** Severity order, worst first. */
export const SEVERITY_RANK: Readonly<Record<Severity, number>> = { error: 0, warning: 1, notice: 2 };
