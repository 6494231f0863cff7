import type { AuditResult, Finding } from '../types.ts';
import { countBySeverity } from './counts.ts';
import { ruleDocsUrl } from './links.ts';

/** The JSON report's version; bumped only when a field changes meaning or goes away. */
export const JSON_REPORT_VERSION = 1;

function entry(finding: Finding) {
  return {
    ruleId: finding.ruleId,
    severity: finding.severity,
    title: finding.title,
    message: finding.message,
    object: {
      kind: finding.object.kind,
      namespace: finding.object.namespace ?? null,
      name: finding.object.name,
    },
    file: finding.file ?? null,
    line: finding.line ?? null,
    field: finding.field,
    value: finding.value ? { file: finding.value.file, line: finding.value.line ?? null } : null,
    fingerprint: finding.fingerprint,
    help: ruleDocsUrl(finding.ruleId),
  };
}

/** The JSON report: counts, every finding (worst first) with rule, severity, object, file, line and message. */
export function jsonReport(result: AuditResult) {
  const counts = countBySeverity(result.findings);
  return {
    tool: 'greenlight-audit',
    reportVersion: JSON_REPORT_VERSION,
    kubernetesVersion: result.kubernetesVersion,
    summary: {
      findings: result.findings.length,
      errors: counts.error,
      warnings: counts.warning,
      notices: counts.notice,
      suppressed: result.suppressed.length,
      baselined: result.baselined,
      objects: result.objects,
    },
    findings: result.findings.map(entry),
    suppressed: result.suppressed.map((finding) => ({
      ...entry(finding),
      reason: finding.reason,
      expires: finding.expires ?? null,
    })),
    notes: result.notes,
  };
}
