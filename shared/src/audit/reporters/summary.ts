import { SummaryBuilder } from '../../runtime/summary.ts';
import type { AuditResult, Finding, Severity } from '../types.ts';
import { countBySeverity, objectName } from './counts.ts';
import { ruleDocsUrl } from './links.ts';

const ICON: Readonly<Record<Severity, string>> = { error: '🔴', warning: '🟠', notice: '🔵' };

/** How many findings the summary lists one by one (worst first); the rest are counted. */
export const SUMMARY_FINDINGS_LIMIT = 100;

function where(finding: Finding): string {
  if (!finding.file) return objectName(finding);
  const place = finding.line ? `${finding.file}:${finding.line}` : finding.file;
  const value = finding.value
    ? ` (value: ${finding.value.file}${finding.value.line ? `:${finding.value.line}` : ''})`
    : '';
  return `${place}${value}`;
}

/**
 * Writes the audit to a job summary: the counts, a table by rule, then the findings worst first, the suppressed
 * ones with their reasons, and notes about the config.
 */
export function writeSummary(
  result: AuditResult,
  summary: SummaryBuilder = new SummaryBuilder(),
  limit = SUMMARY_FINDINGS_LIMIT,
) {
  const counts = countBySeverity(result.findings);
  const verdict = result.findings.length === 0 ? '✅ no findings' : `${result.findings.length} findings`;
  summary.heading(`Audit: ${verdict}`, 2);
  summary.table(
    ['errors', 'warnings', 'notices', 'suppressed', 'in baseline', 'objects', 'rules', 'Kubernetes'],
    [
      [
        String(counts.error),
        String(counts.warning),
        String(counts.notice),
        String(result.suppressed.length),
        String(result.baselined),
        String(result.objects),
        String(result.rules.length),
        result.kubernetesVersion,
      ],
    ],
  );
  if (result.findings.length > 0) {
    const byRule = new Map<string, { finding: Finding; count: number }>();
    for (const finding of result.findings) {
      const entry = byRule.get(finding.ruleId);
      if (entry) entry.count += 1;
      else byRule.set(finding.ruleId, { finding, count: 1 });
    }
    summary.heading('By rule', 3);
    summary.table(
      ['rule', 'title', 'severity', 'findings'],
      [...byRule.values()].map(({ finding, count }) => [
        `[${finding.ruleId}](${ruleDocsUrl(finding.ruleId)})`,
        finding.title,
        `${ICON[finding.severity]} ${finding.severity}`,
        String(count),
      ]),
    );
    summary.heading('Findings, worst first', 3);
    summary.table(
      ['', 'rule', 'object', 'where', 'message'],
      result.findings
        .slice(0, limit)
        .map((finding) => [
          ICON[finding.severity],
          finding.ruleId,
          objectName(finding),
          where(finding),
          finding.message,
        ]),
    );
    if (result.findings.length > limit) {
      summary.text(`…and ${result.findings.length - limit} more; the SARIF and JSON reports list them all.`);
    }
  }
  if (result.suppressed.length > 0) {
    summary.details(
      `${result.suppressed.length} suppressed findings`,
      new SummaryBuilder()
        .table(
          ['rule', 'object', 'reason', 'expires'],
          result.suppressed.map((finding) => [
            finding.ruleId,
            objectName(finding),
            finding.reason,
            finding.expires ?? 'never',
          ]),
        )
        .toString(),
    );
  }
  if (result.notes.length > 0) {
    summary.heading('Notes', 3);
    summary.text(result.notes.map((note) => `- ${ICON[note.level]} ${note.message}`).join('\n'));
  }
  return summary;
}
