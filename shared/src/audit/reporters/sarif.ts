import { pathToFileURL } from 'node:url';
import type { Log, ReportingDescriptor, Result } from 'sarif';
import type { AuditResult, Finding, Severity } from '../types.ts';
import { objectName } from './counts.ts';
import { ruleDocsUrl } from './links.ts';

const LEVEL: Readonly<Record<Severity, Result.level>> = {
  error: 'error',
  warning: 'warning',
  notice: 'note',
};

export const SARIF_SCHEMA_URI =
  'https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json';

function result(finding: Finding, ruleIndex: number, suppression?: { reason: string }): Result {
  const qualified = [finding.object.kind, finding.object.namespace, finding.object.name]
    .filter(Boolean)
    .join('/');
  const out: Result = {
    ruleId: finding.ruleId,
    ruleIndex,
    level: LEVEL[finding.severity],
    message: { text: finding.message },
    locations: [
      {
        ...(finding.file
          ? {
              physicalLocation: {
                artifactLocation: { uri: encodeURI(finding.file), uriBaseId: '%SRCROOT%' },
                ...(finding.line ? { region: { startLine: finding.line } } : {}),
              },
            }
          : {}),
        logicalLocations: [{ name: finding.object.name, fullyQualifiedName: qualified, kind: 'object' }],
      },
    ],
    ...(finding.value
      ? {
          relatedLocations: [
            {
              id: 1,
              message: { text: 'the value that sets this field' },
              physicalLocation: {
                artifactLocation: { uri: encodeURI(finding.value.file), uriBaseId: '%SRCROOT%' },
                ...(finding.value.line ? { region: { startLine: finding.value.line } } : {}),
              },
            },
          ],
        }
      : {}),
    partialFingerprints: { 'greenlightFinding/v1': finding.fingerprint },
    properties: { object: objectName(finding), field: finding.field },
  };
  if (suppression)
    out.suppressions = [{ kind: 'external', status: 'accepted', justification: suppression.reason }];
  return out;
}

/**
 * The audit as a SARIF 2.1.0 log: one run, the rules that ran (with help links), every finding with its file
 * (relative to `%SRCROOT%`, the repository root) and line, and suppressed findings marked as such.
 */
export function sarifReport(audit: AuditResult, options: { root?: string; version?: string } = {}): Log {
  const rules: ReportingDescriptor[] = audit.rules.map((rule) => ({
    id: rule.id,
    name: rule.title.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : '')),
    shortDescription: { text: rule.title },
    fullDescription: { text: rule.why },
    help: { text: rule.fix, markdown: `${rule.fix}\n\n[${rule.id}](${ruleDocsUrl(rule.id)})` },
    helpUri: ruleDocsUrl(rule.id),
    defaultConfiguration: { level: LEVEL[rule.severity] },
    properties: { tags: ['kubernetes', rule.family] },
  }));
  const index = new Map(audit.rules.map((rule, position) => [rule.id, position]));
  const root = options.root ?? process.cwd();
  const rootUri = pathToFileURL(root.endsWith('/') ? root : `${root}/`).href;
  return {
    $schema: SARIF_SCHEMA_URI,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'Greenlight audit',
            informationUri: 'https://github.com/greenlight/greenlight/blob/main/docs/audit.md',
            semanticVersion: options.version ?? '0.1.0',
            rules,
          },
        },
        originalUriBaseIds: { '%SRCROOT%': { uri: rootUri } },
        results: [
          ...audit.findings.map((finding) => result(finding, index.get(finding.ruleId) ?? -1)),
          ...audit.suppressed.map((finding) => result(finding, index.get(finding.ruleId) ?? -1, finding)),
        ],
        columnKind: 'utf16CodeUnits',
      },
    ],
  };
}
