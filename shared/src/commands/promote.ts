import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { abortRelease } from '../bluegreen/abort.ts';
import type { SourcedObject } from '../bluegreen/plan.ts';
import {
  promoteFromEnvironment,
  promoteRelease,
  type ReleaseOutcome,
  type RunContext,
} from '../bluegreen/promote.ts';
import { rollbackRelease } from '../bluegreen/rollback.ts';
import { renderChart } from '../chart/render.ts';
import { startDeployment } from '../github/deployments.ts';
import { parseGates } from '../health/spec.ts';
import { connect } from '../kube/client.ts';
import { defineCommand } from '../runtime/command.ts';
import { formatDuration } from '../runtime/duration.ts';
import { GreenlightError, InputError } from '../runtime/errors.ts';
import type { SummaryBuilder } from '../runtime/summary.ts';

/** Inputs of `promote`; descriptions are in actions/promote/action.yml. */
export const promoteInputs = {
  app: { type: 'string', required: true },
  namespace: { type: 'string', required: true },
  environment: { type: 'string', required: true },
  action: { type: 'enum', values: ['promote', 'rollback', 'abort'], default: 'promote' },
  'expected-digest': { type: 'string' },
  'verify-for': { type: 'duration', default: '60s' },
  'health-checks': { type: 'yaml' },
  'scale-down-delay': { type: 'duration', default: '30s' },
  'keep-previous': { type: 'boolean', default: 'false' },
  'keep-failed': { type: 'boolean', default: 'false' },
  route: { type: 'enum', values: ['service', 'ingress'], default: 'service' },
  timeout: { type: 'duration', default: '10m' },
  'environment-url': { type: 'string' },
  'from-environment': { type: 'string' },
  chart: { type: 'string' },
  'values-files': { type: 'lines' },
  set: { type: 'lines' },
  'from-namespace': { type: 'string' },
  'from-kubeconfig': { type: 'string', secret: true },
  'from-context': { type: 'string' },
  kubeconfig: { type: 'string', secret: true },
  context: { type: 'string' },
  token: { type: 'string', secret: true },
} as const;

/** Writes the job summary of a promote, rollback or abort: the facts, the verification and the timeline. */
export function summarise(
  summary: SummaryBuilder,
  outcome: ReleaseOutcome,
  facts: { app: string; environment: string; namespace: string },
  phases: RunContext['clock']['phases'],
): void {
  const icon = outcome.failure ? '🔴' : outcome.rolledBack ? '↩️' : '🟢';
  summary.heading(`${icon} ${outcome.action} ${facts.app} in ${facts.environment}`);
  summary.text(outcome.message);
  summary.table(
    ['', ''],
    [
      ['namespace', facts.namespace],
      ['active colour', outcome.activeColor ?? '(none)'],
      ['previous colour', outcome.previousColor ?? '(none)'],
      ['revision', outcome.revision ? String(outcome.revision) : '(none)'],
      ['image', outcome.image ? `\`${outcome.image}\`` : '(none)'],
      ['rolled back', String(outcome.rolledBack)],
    ],
  );
  if (outcome.recheck) {
    summary.heading('Checks before the flip', 3);
    summary.table(
      ['gate', 'kind', 'result', 'detail', 'time'],
      outcome.recheck.results.map((r) => [r.name, r.kind, r.outcome, r.detail, formatDuration(r.durationMs)]),
    );
  }
  if (outcome.verification) {
    const v = outcome.verification;
    summary.heading(
      `Verification: ${v.passed ? 'passed' : 'failed'} (${v.rounds} rounds over ${formatDuration(v.durationMs)})`,
      3,
    );
    if (v.failure) summary.text(`**${v.failure}**`);
    summary.table(
      ['gate', 'kind', 'checks', 'failures', 'last observation'],
      v.gates.map((g) => [g.name, g.kind, String(g.checks), String(g.failures), g.last]),
    );
  }
  summary.timeline(`${outcome.action} ${facts.app}`, phases);
}

export const promote = defineCommand({
  name: 'promote',
  description: 'Flip traffic to the candidate in one step, verify, and roll back by itself on failure',
  inputs: promoteInputs,
  outputs: ['active-color', 'previous-color', 'revision', 'image', 'rolled-back'],
  async run(inputs, context) {
    const { host } = context;
    const kube = connect({
      kubeconfig: inputs.kubeconfig,
      context: inputs.context,
      env: context.env,
      mask: (secret) => host.secret(secret),
      signal: context.signal,
    });
    const base = {
      kube,
      app: inputs.app,
      namespace: inputs.namespace,
      environment: inputs.environment,
      host,
      clock: context.clock,
      signal: context.signal,
      env: context.env,
      environmentUrl: inputs['environment-url'],
      github: (description: string, payload: Record<string, string>) =>
        startDeployment({
          token: inputs.token,
          environment: inputs.environment,
          description,
          payload,
          env: context.env,
          host,
        }),
      route: inputs.route as 'service' | 'ingress',
      timeoutMs: inputs.timeout,
      gates: parseGates(inputs['health-checks']),
      prometheusUrl: context.env.GREENLIGHT_PROMETHEUS_URL,
      scaleDownDelayMs: inputs['scale-down-delay'],
      keepPrevious: inputs['keep-previous'],
      keepFailed: inputs['keep-failed'],
    };
    let outcome: ReleaseOutcome;
    const from = inputs['from-environment'];
    if (from) {
      const problems: string[] = [];
      if (inputs.action !== 'promote') problems.push('`from-environment` works only with `action: promote`');
      if (!inputs.chart) {
        problems.push(
          '`from-environment` needs `chart` (where the chart lives; its version comes from the source environment)',
        );
      }
      if (problems.length > 0) throw new InputError(problems);
      const separate = Boolean(inputs['from-kubeconfig'] || inputs['from-context']);
      const fromKube = separate
        ? connect({
            kubeconfig: inputs['from-kubeconfig'] || inputs.kubeconfig,
            context: inputs['from-context'] || (inputs['from-kubeconfig'] ? undefined : inputs.context),
            env: context.env,
            mask: (secret) => host.secret(secret),
            signal: context.signal,
          })
        : kube;
      const root = context.env.GITHUB_WORKSPACE ?? process.cwd();
      outcome = await promoteFromEnvironment({
        ...base,
        expectedDigest: inputs['expected-digest'],
        verifyForMs: inputs['verify-for'],
        from: { kube: fromKube, namespace: inputs['from-namespace'] || inputs.namespace, environment: from },
        render: (chart) =>
          renderForEnvironment(
            {
              chart: inputs.chart as string,
              valuesFiles: inputs['values-files'],
              set: inputs.set,
              app: inputs.app,
              namespace: inputs.namespace,
            },
            chart,
            root,
            context.signal,
          ),
      });
    } else if (inputs.action === 'rollback') outcome = await rollbackRelease(base);
    else if (inputs.action === 'abort') outcome = await abortRelease(base);
    else {
      outcome = await promoteRelease({
        ...base,
        expectedDigest: inputs['expected-digest'],
        verifyForMs: inputs['verify-for'],
      });
    }
    summarise(
      context.summary,
      outcome,
      { app: inputs.app, environment: inputs.environment, namespace: inputs.namespace },
      context.clock.phases,
    );
    const outputs = {
      'active-color': outcome.activeColor ?? '',
      'previous-color': outcome.previousColor ?? '',
      revision: outcome.revision ? String(outcome.revision) : '',
      image: outcome.image,
      'rolled-back': String(outcome.rolledBack),
    };
    if (outcome.failure) {
      // The step fails, but what a workflow reads next (which colour serves, that it rolled back) still holds.
      for (const [name, value] of Object.entries(outputs)) host.setOutput(name, value);
      throw outcome.failure;
    }
    return outputs;
  },
});

/**
 * Renders this environment's objects from `chart` at the version the source environment runs. A registry or
 * repository chart is pulled at that version; a chart folder must already be at it (check out the release tag).
 */
export async function renderForEnvironment(
  inputs: { chart: string; valuesFiles: string[]; set: string[]; app: string; namespace: string },
  source: { name: string; version: string } | undefined,
  root: string,
  signal: AbortSignal,
): Promise<SourcedObject[]> {
  const folder = join(resolve(root, inputs.chart), 'Chart.yaml');
  const local = existsSync(folder);
  if (local && source?.version) {
    const chart = parseYaml(readFileSync(folder, 'utf8')) as { version?: unknown } | null;
    const version = String(chart?.version ?? '');
    if (version !== source.version) {
      throw new GreenlightError({
        what: 'render the chart for environment promotion',
        file: folder,
        reason: `the chart folder is at version ${version}, but the source environment runs chart ${source.name} ${source.version}`,
        hint: `check out the commit or tag of chart ${source.version}, or point \`chart\` at a registry that holds it`,
      });
    }
  }
  const rendered = await renderChart({
    chart: inputs.chart,
    version: local ? undefined : source?.version,
    valuesFiles: inputs.valuesFiles,
    set: inputs.set,
    releaseName: inputs.app,
    namespace: inputs.namespace,
    root,
    signal,
  });
  return rendered.map((o) => ({
    object: o.object,
    source: o.source.line ? `${o.source.file}:${o.source.line}` : o.source.file,
  }));
}
