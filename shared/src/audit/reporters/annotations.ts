import type { Host } from '../../runtime/host.ts';
import type { AuditResult } from '../types.ts';
import { objectName, valueNote } from './counts.ts';
import { ruleDocsUrl } from './links.ts';

/** GitHub shows at most this many annotations of a step; the rest stay in the summary, SARIF and JSON. */
export const ANNOTATION_LIMIT = 50;

/**
 * Annotates findings (worst first) at their file and line, so they show inline on the pull request, and the
 * notes about the audit itself (expired or unused suppressions) at the config line. Returns how many were left
 * out over the limit.
 */
export function annotateFindings(result: AuditResult, host: Host, limit = ANNOTATION_LIMIT): number {
  for (const note of result.notes) {
    host.annotate(note.level, note.message, { title: 'audit config', file: note.file, line: note.line });
  }
  const shown = result.findings.slice(0, limit);
  for (const finding of shown) {
    const rule = result.rules.find((candidate) => candidate.id === finding.ruleId);
    const where = finding.file ? '' : ` (${objectName(finding)})`;
    const fix = rule ? ` Fix: ${rule.fix}` : '';
    host.annotate(
      finding.severity,
      `${finding.message}${where}${valueNote(finding)}.${fix} See ${ruleDocsUrl(finding.ruleId)}`,
      {
        title: `${finding.ruleId} ${finding.title}`,
        file: finding.file,
        line: finding.line,
      },
    );
  }
  const left = result.findings.length - shown.length;
  if (left > 0)
    host.info(`${left} more findings are not annotated; see the job summary, SARIF or JSON report`);
  return left;
}
