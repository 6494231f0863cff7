import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv04 from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/audit/config.ts';
import { runRules } from '../../src/audit/engine.ts';
import { annotateFindings } from '../../src/audit/reporters/annotations.ts';
import { failsOn } from '../../src/audit/reporters/counts.ts';
import { jsonReport } from '../../src/audit/reporters/json.ts';
import { sarifReport } from '../../src/audit/reporters/sarif.ts';
import { writeSummary } from '../../src/audit/reporters/summary.ts';
import { ALL_RULES } from '../../src/audit/rules/index.ts';
import type { AuditResult, Finding } from '../../src/audit/types.ts';
import { parseManifests } from '../../src/chart/manifests.ts';
import type { AnnotationLevel, AnnotationPlace, Host } from '../../src/runtime/host.ts';

const schema = JSON.parse(
  readFileSync(join(import.meta.dirname, 'fixtures', 'sarif-schema-2.1.0.json'), 'utf8'),
);
const ajv = new Ajv04({ allErrors: true, strict: false });
addFormats(ajv);
const validateSarif = ajv.compile(schema);

const MANIFEST = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: shop
spec:
  replicas: 2
  selector:
    matchLabels: { app: api }
  template:
    metadata:
      labels: { app: api }
    spec:
      containers:
        - name: web
          image: nginx:latest
          securityContext:
            privileged: true
---
apiVersion: v1
kind: Service
metadata:
  name: api
  namespace: shop
spec:
  type: LoadBalancer
  selector: { app: api }
`;

function sampleResult(): AuditResult {
  const config = parseConfig(
    'suppressions:\n  - rule: GL-NET-002\n    object: Service/shop/api\n    reason: the public edge, reviewed by the platform team\n',
    '.github/audit.yaml',
    ALL_RULES.map((rule) => rule.id),
  );
  const objects = [
    ...parseManifests(MANIFEST, 'deploy/app.yaml'),
    // A live object: no file, only its name.
    {
      object: {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'legacy', namespace: 'ops' },
        spec: { externalIPs: ['198.51.100.4'] },
      },
    },
  ];
  return runRules(objects, {
    rules: ALL_RULES,
    config,
    kubernetesMinor: 36,
    now: new Date('2026-11-21T00:00:00Z'),
  });
}

class RecordingHost implements Host {
  readonly annotations: { level: AnnotationLevel; message: string; place?: AnnotationPlace }[] = [];
  readonly infos: string[] = [];
  info(message: string) {
    this.infos.push(message);
  }
  debug() {}
  warning(message: string, place?: AnnotationPlace) {
    this.annotate('warning', message, place);
  }
  annotate(level: AnnotationLevel, message: string, place?: AnnotationPlace) {
    this.annotations.push({ level, message, place });
  }
  group<T>(_name: string, fn: () => Promise<T>) {
    return fn();
  }
  setOutput() {}
  secret() {}
  async summary() {}
}

describe('SARIF', () => {
  it('validates against the official SARIF 2.1.0 schema', () => {
    const log = sarifReport(sampleResult(), { root: '/work/repo' });
    const valid = validateSarif(log);
    expect(validateSarif.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('rejects a broken log, so the schema check is real', () => {
    const log = sarifReport(sampleResult(), { root: '/work/repo' }) as unknown as {
      runs: { results: { level: string }[] }[];
    };
    const first = log.runs[0]?.results[0];
    if (first) first.level = 'fatal';
    expect(validateSarif(log)).toBe(false);
  });

  it('points results at repository-relative files and real lines', () => {
    const log = sarifReport(sampleResult(), { root: '/work/repo' });
    const run = log.runs[0];
    expect(run?.originalUriBaseIds?.['%SRCROOT%']?.uri).toBe('file:///work/repo/');
    const privileged = run?.results?.find((result) => result.ruleId === 'GL-SEC-001');
    expect(privileged?.level).toBe('error');
    expect(privileged?.locations?.[0]?.physicalLocation?.artifactLocation).toEqual({
      uri: 'deploy/app.yaml',
      uriBaseId: '%SRCROOT%',
    });
    expect(privileged?.locations?.[0]?.physicalLocation?.region?.startLine).toBe(18);
    const rule = run?.tool.driver.rules?.[privileged?.ruleIndex ?? -1];
    expect(rule?.id).toBe('GL-SEC-001');
    expect(rule?.helpUri).toMatch(/docs\/rules\/GL-SEC-001\.md$/);
  });

  it('marks suppressed findings with their justification and keeps live findings without a file', () => {
    const results = sarifReport(sampleResult()).runs[0]?.results ?? [];
    const suppressed = results.find((result) => result.suppressions);
    expect(suppressed?.ruleId).toBe('GL-NET-002');
    expect(suppressed?.suppressions?.[0]?.justification).toContain('platform team');
    const live = results.find((result) => result.message.text?.includes('198.51.100.4'));
    expect(live?.locations?.[0]?.physicalLocation).toBeUndefined();
    expect(live?.locations?.[0]?.logicalLocations?.[0]?.fullyQualifiedName).toBe('Service/ops/legacy');
  });
});

describe('the values line behind a chart finding', () => {
  const withValue = (): AuditResult => {
    const result = sampleResult();
    const [first, ...rest] = result.findings;
    return {
      ...result,
      findings: [{ ...(first as Finding), value: { file: 'deploy/values-prod.yaml', line: 7 } }, ...rest],
    };
  };

  it('is a related location in SARIF, still schema-valid', () => {
    const log = sarifReport(withValue());
    expect(validateSarif(log), JSON.stringify(validateSarif.errors)).toBe(true);
    const related = log.runs[0]?.results?.[0]?.relatedLocations?.[0];
    expect(related?.physicalLocation?.artifactLocation?.uri).toBe('deploy/values-prod.yaml');
    expect(related?.physicalLocation?.region?.startLine).toBe(7);
  });

  it('is in the JSON report, the annotation and the summary', () => {
    expect(jsonReport(withValue()).findings[0]?.value).toEqual({ file: 'deploy/values-prod.yaml', line: 7 });
    const host = new RecordingHost();
    annotateFindings(withValue(), host);
    expect(host.annotations[0]?.message).toContain('(value set at deploy/values-prod.yaml:7)');
    expect(writeSummary(withValue()).toString()).toContain('(value: deploy/values-prod.yaml:7)');
    expect(jsonReport(sampleResult()).findings[0]?.value).toBeNull();
  });
});

describe('JSON report', () => {
  it('lists each finding with rule, severity, object, file, line and message', () => {
    const report = jsonReport(sampleResult());
    const privileged = report.findings.find((finding) => finding.ruleId === 'GL-SEC-001');
    expect(privileged).toMatchObject({
      severity: 'error',
      object: { kind: 'Deployment', namespace: 'shop', name: 'api' },
      file: 'deploy/app.yaml',
      line: 18,
      field: 'spec.template.spec.containers[web].securityContext.privileged',
    });
    expect(privileged?.message).toContain('runs privileged');
    expect(report.summary.findings).toBe(report.findings.length);
    expect(report.suppressed).toHaveLength(1);
    expect(report.summary.errors).toBe(
      report.findings.filter((finding) => finding.severity === 'error').length,
    );
  });
});

describe('annotations', () => {
  it('annotates each finding at its file and line, worst first, with the fix and the docs link', () => {
    const host = new RecordingHost();
    const result = sampleResult();
    annotateFindings(result, host);
    expect(host.annotations).toHaveLength(result.findings.length);
    expect(host.annotations[0]?.level).toBe('error');
    const latest = host.annotations.find((annotation) => annotation.place?.title?.startsWith('GL-IMG-001'));
    expect(latest?.place).toMatchObject({ file: 'deploy/app.yaml', line: 16 });
    expect(latest?.message).toContain('Fix:');
    expect(latest?.message).toContain('docs/rules/GL-IMG-001.md');
  });

  it('stops at the limit and says how many were left out', () => {
    const host = new RecordingHost();
    const result = sampleResult();
    const left = annotateFindings(result, host, 2);
    expect(host.annotations).toHaveLength(2);
    expect(left).toBe(result.findings.length - 2);
    expect(host.infos[0]).toContain(`${left} more findings`);
  });
});

describe('job summary', () => {
  it('shows counts, a table by rule and the worst findings first', () => {
    const result = sampleResult();
    const text = writeSummary(result).toString();
    expect(text).toContain(`## Audit: ${result.findings.length} findings`);
    expect(text).toContain('### By rule');
    expect(text).toContain('[GL-SEC-001]');
    const table = text.slice(text.indexOf('### Findings, worst first'));
    expect(table.indexOf('GL-SEC-001')).toBeLessThan(table.indexOf('GL-NET-004'));
    expect(text).toContain('deploy/app.yaml:18');
    expect(text).toContain('1 suppressed findings');
  });

  it('says so when there is nothing to report', () => {
    const empty: AuditResult = { ...sampleResult(), findings: [], suppressed: [], notes: [] };
    expect(writeSummary(empty).toString()).toContain('no findings');
  });
});

describe('fail-on', () => {
  it.each([
    ['error', true],
    ['warning', true],
    ['never', false],
  ] as const)('fails on %s: %s', (failOn, fails) => expect(failsOn(sampleResult(), failOn)).toBe(fails));

  it('passes on error when only warnings remain', () => {
    const result = sampleResult();
    const warningsOnly = {
      ...result,
      findings: result.findings.filter((finding) => finding.severity !== 'error'),
    };
    expect(failsOn(warningsOnly, 'error')).toBe(false);
    expect(failsOn(warningsOnly, 'warning')).toBe(true);
  });
});
