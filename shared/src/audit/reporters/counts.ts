import type { AuditResult, Finding, Severity } from '../types.ts';

/** How many findings of each severity. */
export function countBySeverity(findings: readonly Finding[]): Record<Severity, number> {
  const counts: Record<Severity, number> = { error: 0, warning: 0, notice: 0 };
  for (const finding of findings) counts[finding.severity] += 1;
  return counts;
}

/** True when the result should fail the step under `failOn`. */
export function failsOn(result: AuditResult, failOn: 'error' | 'warning' | 'never'): boolean {
  if (failOn === 'never') return false;
  const counts = countBySeverity(result.findings);
  return counts.error > 0 || (failOn === 'warning' && counts.warning > 0);
}

/** `Deployment shop/api` or `Deployment api`. */
export function objectName(finding: Pick<Finding, 'object'>): string {
  const { kind, namespace, name } = finding.object;
  return namespace ? `${kind} ${namespace}/${name}` : `${kind} ${name}`;
}

/** ` (value set at deploy/values.yaml:4)` for a finding whose field a values file set, else nothing. */
export function valueNote(finding: Pick<Finding, 'value'>): string {
  if (!finding.value) return '';
  return ` (value set at ${finding.value.file}${finding.value.line ? `:${finding.value.line}` : ''})`;
}
