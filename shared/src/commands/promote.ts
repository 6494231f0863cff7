import { abortRelease } from '../bluegreen/abort.ts';
import { promoteRelease, type ReleaseOutcome, type RunContext } from '../bluegreen/promote.ts';
import { rollbackRelease } from '../bluegreen/rollback.ts';
import { startDeployment } from '../github/deployments.ts';
import { parseGates } from '../health/spec.ts';
import { connect } from '../kube/client.ts';
import { defineCommand } from '../runtime/command.ts';
import { formatDuration } from '../runtime/duration.ts';
import { GreenlightError } from '../runtime/errors.ts';
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
  route: { type: 'enum', values: ['service', 'ingress'], default: 'service' },
  timeout: { type: 'duration', default: '10m' },
  'environment-url': { type: 'string' },
  'from-environment': { type: 'string' },
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
    if (inputs['from-environment']) {
      const from = inputs['from-environment'];
      throw new GreenlightError({
        what: `promote from environment ${from}`,
        object: {
          kind: 'ConfigMap',
          name: `greenlight-release-${inputs.app}-${from}`,
          namespace: inputs['from-namespace'] || inputs.namespace,
        },
        reason: `environment promotion (from-context ${inputs['from-context'] || '(current)'}, ${inputs['from-kubeconfig'] ? 'its own kubeconfig' : 'the same kubeconfig'}) is not part of this build yet`,
        hint: `deploy the digest active in ${from} with deploy-bluegreen (images: name@sha256:...), then promote here with expected-digest`,
      });
    }
    const kube = connect({
      kubeconfig: inputs.kubeconfig,
      context: inputs.context,
      env: context.env,
      mask: (secret) => host.secret(secret),
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
    };
    let outcome: ReleaseOutcome;
    if (inputs.action === 'rollback') outcome = await rollbackRelease(base);
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
