import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { collectLive } from '../audit/live/collect.ts';
import { annotateFindings } from '../audit/reporters/annotations.ts';
import { countBySeverity, failsOn } from '../audit/reporters/counts.ts';
import { jsonReport } from '../audit/reporters/json.ts';
import { sarifReport } from '../audit/reporters/sarif.ts';
import { writeSummary } from '../audit/reporters/summary.ts';
import { runAudit } from '../audit/run.ts';
import { connect } from '../kube/client.ts';
import { defineCommand } from '../runtime/command.ts';
import { GreenlightError, InputError } from '../runtime/errors.ts';

/** Inputs of `audit`; descriptions are in actions/audit/action.yml. */
export const auditInputs = {
  path: { type: 'lines' },
  'values-files': { type: 'lines' },
  set: { type: 'lines' },
  cluster: { type: 'boolean', default: 'false' },
  namespaces: { type: 'list' },
  'kubernetes-version': { type: 'string' },
  config: { type: 'string' },
  baseline: { type: 'string' },
  'git-base': { type: 'string' },
  'fail-on': { type: 'enum', values: ['error', 'warning', 'never'], default: 'error' },
  format: { type: 'list', default: 'annotations,summary' },
  'sarif-file': { type: 'string' },
  'json-file': { type: 'string' },
  kubeconfig: { type: 'string', secret: true },
  context: { type: 'string' },
} as const;

const FORMATS = ['annotations', 'summary', 'sarif', 'json'];

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function writeReport(path: string, content: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(content, null, 2)}\n`);
}

export const audit = defineCommand({
  name: 'audit',
  description: 'Check charts, manifests and live clusters against production lessons',
  inputs: auditInputs,
  outputs: ['findings', 'errors', 'warnings', 'sarif-file', 'json-file'],
  async run(inputs, { host, summary, signal, env }) {
    const unknown = inputs.format.filter((format) => !FORMATS.includes(format));
    const problems = unknown.map(
      (format) => `input \`format\` has "${format}"; use any of ${FORMATS.join(', ')}`,
    );
    if (!inputs.cluster && inputs.path.length === 0) {
      problems.push('nothing to audit: give `path` (files, folders or charts) or set `cluster: true`');
    }
    if (problems.length > 0) throw new InputError(problems);
    const formats = new Set(inputs.format);
    const root = process.cwd();

    let live: Parameters<typeof runAudit>[0]['live'];
    if (inputs.cluster) {
      live = await host.group('Read the cluster', async () => {
        const kube = connect({
          kubeconfig: inputs.kubeconfig,
          context: inputs.context,
          env,
          mask: (secret) => host.secret(secret),
          signal,
        });
        const snapshot = await collectLive(kube, inputs.namespaces, signal);
        host.info(
          `read ${snapshot.objects.length} objects from ${kube.server} (Kubernetes ${snapshot.kubernetesVersion ?? 'unknown'}) in ${snapshot.namespaces === 'all' ? 'all namespaces' : snapshot.namespaces.join(', ')}`,
        );
        return snapshot;
      });
    }
    const result = await host.group('Audit', () =>
      runAudit({
        paths: inputs.path,
        valuesFiles: inputs['values-files'],
        set: inputs.set,
        kubernetesVersion: inputs['kubernetes-version'],
        config: inputs.config,
        baseline: inputs.baseline,
        gitBase: inputs['git-base'],
        root,
        signal,
        live,
      }),
    );
    const counts = countBySeverity(result.findings);
    host.info(
      `${result.objects} objects, ${result.rules.length} rules, Kubernetes ${result.kubernetesVersion}: ${counts.error} errors, ${counts.warning} warnings, ${counts.notice} notices, ${result.suppressed.length} suppressed, ${result.baselined} in the baseline`,
    );

    const outputs: Record<string, string> = {
      findings: String(result.findings.length),
      errors: String(counts.error),
      warnings: String(counts.warning),
      'sarif-file': '',
      'json-file': '',
    };
    if (formats.has('sarif') || inputs['sarif-file']) {
      const file = inputs['sarif-file'] || 'greenlight-audit.sarif';
      writeReport(resolve(root, file), sarifReport(result, { root }));
      outputs['sarif-file'] = file;
    }
    if (formats.has('json') || inputs['json-file']) {
      const file = inputs['json-file'] || 'greenlight-audit.json';
      writeReport(resolve(root, file), jsonReport(result));
      outputs['json-file'] = file;
    }
    if (formats.has('annotations')) annotateFindings(result, host);
    if (formats.has('summary')) writeSummary(result, summary);

    if (failsOn(result, inputs['fail-on'] as 'error' | 'warning' | 'never')) {
      for (const [name, value] of Object.entries(outputs)) host.setOutput(name, value);
      throw new GreenlightError({
        what: 'audit gate',
        reason: `${plural(counts.error, 'error')} and ${plural(counts.warning, 'warning')} reported (fail-on: ${inputs['fail-on']})`,
        hint: 'fix the findings, suppress one with a reason in the audit config, or accept the current ones in a baseline (docs/audit.md)',
      });
    }
    return outputs;
  },
});
