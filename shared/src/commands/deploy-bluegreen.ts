import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { type DeployOptions, type DeployResult, deployBlueGreen, emptyResult } from '../bluegreen/deploy.ts';
import type { SourcedObject } from '../bluegreen/plan.ts';
import { promoteRelease } from '../bluegreen/promote.ts';
import { loadManifests } from '../chart/manifests.ts';
import { renderChart } from '../chart/render.ts';
import type { RenderedObject } from '../chart/types.ts';
import { parseGates } from '../health/spec.ts';
import { type PinFailure, pinImages } from '../image/pin.ts';
import { parseImageReference } from '../image/reference.ts';
import { connect } from '../kube/client.ts';
import { holderIdentity } from '../kube/lock.ts';
import { type CommandContext, defineCommand } from '../runtime/command.ts';
import { formatDuration, parseDuration } from '../runtime/duration.ts';
import { describeError, GreenlightError, InputError } from '../runtime/errors.ts';
import type { SummaryBuilder } from '../runtime/summary.ts';

/** Inputs of `deploy-bluegreen`; descriptions are in actions/deploy-bluegreen/action.yml. */
export const deployInputs = {
  app: { type: 'string', required: true },
  namespace: { type: 'string', required: true },
  environment: { type: 'string', required: true },
  images: { type: 'lines' },
  chart: { type: 'string' },
  'chart-version': { type: 'string' },
  'values-files': { type: 'lines' },
  set: { type: 'lines' },
  manifests: { type: 'lines' },
  'health-checks': { type: 'yaml' },
  timeout: { type: 'duration', default: '10m' },
  promote: { type: 'enum', values: ['manual', 'auto'], default: 'manual' },
  'verify-for': { type: 'duration', default: '60s' },
  'scale-down-delay': { type: 'duration', default: '30s' },
  'keep-failed': { type: 'boolean', default: 'false' },
  kubeconfig: { type: 'string', secret: true },
  context: { type: 'string' },
} as const;

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export const deployBluegreen = defineCommand({
  name: 'deploy-bluegreen',
  description: 'Put a release on the idle colour of an environment and prove it healthy',
  inputs: deployInputs,
  outputs: ['color', 'previous-color', 'revision', 'ready-for-promotion', 'preview-url', 'release'],
  async run(inputs, context) {
    const { host, clock, env } = context;
    const problems: string[] = [];
    for (const name of ['app', 'namespace', 'environment'] as const) {
      if (!NAME.test(inputs[name]))
        problems.push(`input \`${name}\` must be a DNS label (a-z, 0-9, -), got "${inputs[name]}"`);
    }
    if (`greenlight-release-${inputs.app}-${inputs.environment}`.length > 253)
      problems.push('`app` and `environment` are too long together');
    if (inputs.chart && inputs.manifests.length > 0)
      problems.push('give either `chart` or `manifests`, not both');
    if (!inputs.chart && inputs.manifests.length === 0)
      problems.push('give a `chart` or `manifests` to deploy');
    if (!inputs.chart && inputs.manifests.length > 0) {
      // Plain manifests are applied as written: these would be ignored without a word.
      const chartOnly = [
        ['chart-version', inputs['chart-version'] !== undefined],
        ['values-files', inputs['values-files'].length > 0],
        ['set', inputs.set.length > 0],
      ] as const;
      for (const [name, given] of chartOnly) {
        if (given)
          problems.push(
            `input \`${name}\` applies to \`chart\` only (\`manifests\` are applied as written): remove it, or deploy a chart`,
          );
      }
    }
    if (inputs.promote === 'manual') {
      // The runner passes an input's default whenever it is left out, so only another value tells it was given.
      const windows = [
        ['verify-for', inputs['verify-for']],
        ['scale-down-delay', inputs['scale-down-delay']],
      ] as const;
      for (const [name, ms] of windows) {
        if (ms !== parseDuration(deployInputs[name].default))
          problems.push(
            `input \`${name}\` (${formatDuration(ms)}) applies to \`promote: auto\` only (with \`promote: manual\` the promote action takes its own): remove it, or set \`promote: auto\``,
          );
      }
    }
    // Everything the inputs alone can tell is checked here, before any call to the cluster (the lock included).
    for (const image of inputs.images) {
      try {
        parseImageReference(image);
      } catch (error) {
        problems.push(`input \`images\`: ${describeError(error)}`);
      }
    }
    const root = env.GITHUB_WORKSPACE ?? process.cwd();
    if (
      inputs.chart &&
      !/^(oci|https?):\/\//.test(inputs.chart) &&
      !existsSync(resolve(root, inputs.chart))
    ) {
      problems.push(
        `input \`chart\`: ${inputs.chart} is neither a chart folder or archive in the workspace (${root}) nor an oci:// reference`,
      );
    }
    if (problems.length > 0) throw new InputError(problems);
    const gates = parseGates(inputs['health-checks']);
    const images = await pinnedImages(inputs.images, context);

    const rendered = await clock.run('render', () => render(inputs, root, context.signal));
    host.info(`rendered ${rendered.length} objects from ${inputs.chart ?? inputs.manifests.join(', ')}`);
    const kube = connect({
      kubeconfig: inputs.kubeconfig,
      context: inputs.context,
      env,
      mask: (s) => host.secret(s),
      signal: context.signal,
    });
    host.info(`cluster: ${kube.server} (context ${kube.context})`);

    const options: DeployOptions = {
      app: inputs.app,
      namespace: inputs.namespace,
      environment: inputs.environment,
      objects: rendered.map(
        (o: RenderedObject): SourcedObject => ({
          object: o.object,
          source: o.source.line ? `${o.source.file}:${o.source.line}` : o.source.file,
        }),
      ),
      images,
      gates,
      timeoutMs: inputs.timeout,
      keepFailed: inputs['keep-failed'],
      holder: holderIdentity(env),
      prometheusUrl: env.GREENLIGHT_PROMETHEUS_URL,
      origin: {
        chart: inputs.chart ? chartIdentity(inputs.chart, inputs['chart-version'], root) : undefined,
        gitSha: env.GITHUB_SHA,
        runUrl:
          env.GITHUB_RUN_ID && env.GITHUB_REPOSITORY
            ? `${env.GITHUB_SERVER_URL ?? 'https://github.com'}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`
            : undefined,
        actor: env.GITHUB_ACTOR,
      },
    };
    if (inputs.promote === 'auto') {
      options.promote = async (_result, lock) => {
        const outcome = await promoteRelease({
          kube,
          app: inputs.app,
          namespace: inputs.namespace,
          environment: inputs.environment,
          host,
          clock,
          signal: context.signal,
          env,
          lock,
          verifyForMs: inputs['verify-for'],
          scaleDownDelayMs: inputs['scale-down-delay'],
          keepPrevious: false,
          keepFailed: inputs['keep-failed'],
          route: 'service',
          timeoutMs: inputs.timeout,
          gates,
          prometheusUrl: env.GREENLIGHT_PROMETHEUS_URL,
        });
        host.info(outcome.message);
        if (outcome.failure) throw outcome.failure;
      };
    }
    const result = emptyResult(options);
    try {
      await deployBlueGreen(kube, options, { host, clock, signal: context.signal }, result);
    } finally {
      summarise(context.summary, result, clock.phases);
    }
    return outputs(result);
  },
});

/**
 * The `images` to deploy, each `name@sha256:...`: an entry given by tag (`latest` when it has none) is resolved to
 * the digest the registry holds for it now, before any call to the cluster, so the deploy runs and records exactly
 * that image. Fails naming the input and every reference that could not be resolved.
 */
async function pinnedImages(images: string[], context: CommandContext): Promise<string[]> {
  if (images.every((text) => parseImageReference(text).digest)) return images;
  const pinned = await context.clock.run('resolve images', () =>
    pinImages(images, { env: context.env, signal: context.signal }),
  );
  if (pinned.failures.length > 0) throw unresolvedImages(pinned.failures);
  for (const image of pinned.images) {
    if (!image.tag) continue;
    const given = parseImageReference(image.given).tag ? image.given : `${image.given}:${image.tag}`;
    context.host.info(`resolved ${given} to ${image.pinned}`);
  }
  return pinned.images.map((image) => image.pinned);
}

function unresolvedImages(failures: PinFailure[]): GreenlightError {
  const [only] = failures;
  const one = failures.length === 1 ? only : undefined;
  return new GreenlightError({
    what: 'resolve input `images`',
    object: one ? { kind: 'image', name: one.given } : undefined,
    reason: one ? one.reason : failures.map((f) => `${f.given} (${f.reason})`).join('; '),
    hint: failures.every((f) => f.missing)
      ? "check the tag, or give the image by digest (`name@sha256:...`, as build-image's `image` output prints it)"
      : "a tag is read from its registry with the Docker config's login for it (`docker login`, DOCKER_CONFIG): check that the registry is up and that the login may pull the repository, or give the image by digest (`name@sha256:...`)",
  });
}

async function render(
  inputs: {
    chart?: string;
    'chart-version'?: string;
    'values-files': string[];
    set: string[];
    manifests: string[];
    app: string;
    namespace: string;
  },
  root: string,
  signal: AbortSignal,
): Promise<RenderedObject[]> {
  if (inputs.chart) {
    return renderChart({
      chart: inputs.chart,
      version: inputs['chart-version'],
      valuesFiles: inputs['values-files'],
      set: inputs.set,
      releaseName: inputs.app,
      namespace: inputs.namespace,
      root,
      signal,
      // Like Docker, treat a registry on the loopback interface as plain HTTP (a local or CI-service registry).
      plainHttp: /^oci:\/\/(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?\//.test(inputs.chart),
    });
  }
  return loadManifests(inputs.manifests, root);
}

/** The chart's name and version: from Chart.yaml for a local chart, from the reference for a remote one. */
function chartIdentity(
  chart: string,
  version: string | undefined,
  root: string,
): { name: string; version: string } | undefined {
  const file = join(resolve(root, chart), 'Chart.yaml');
  if (existsSync(file)) {
    const parsed = parseYaml(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown } | null;
    if (typeof parsed?.name === 'string') return { name: parsed.name, version: String(parsed.version ?? '') };
  }
  const name = chart.split('/').pop();
  return name ? { name, version: version ?? '' } : undefined;
}

/** The outputs of a deploy. */
export function outputs(result: DeployResult): Record<string, string> {
  return {
    color: result.color ?? '',
    'previous-color': result.previousColor ?? '',
    revision: result.revision === undefined ? '' : String(result.revision),
    'ready-for-promotion': String(result.ready && !result.active),
    'preview-url': result.previewUrl,
    release: JSON.stringify({
      app: result.app,
      environment: result.environment,
      namespace: result.namespace,
      active: result.active,
      ...result.release,
    }),
  };
}

/** Writes the job summary: the facts, a mermaid timeline of the phases, the gates and the objects applied. */
export function summarise(
  summary: SummaryBuilder,
  result: DeployResult,
  phases: CommandContext['clock']['phases'],
): void {
  const icon = result.failure ? '🔴' : result.active ? '🟢' : '🔵';
  const state = result.failure ? 'failed' : result.active ? 'live' : 'ready for promotion';
  summary.heading(`${icon} deploy ${result.app} to ${result.environment}: ${state}`);
  summary.table(
    ['', ''],
    [
      ['namespace', result.namespace],
      ['colour', result.color ?? '(not chosen)'],
      ['live colour before', result.previousColor ?? '(none: first deploy)'],
      ['revision', result.revision === undefined ? '(none)' : String(result.revision)],
      ['app version', result.release?.appVersion ?? ''],
      ['images', (result.release?.images ?? []).map((i) => `\`${i.reference}\``).join('<br>')],
      ['preview', result.previewUrl],
    ],
  );
  if (result.failure) summary.text(`**Failure:** ${result.failure}`);
  summary.timeline(`deploy ${result.app}`, phases);
  if (result.gates.length > 0) {
    summary.heading('Health gates', 3);
    summary.table(
      ['gate', 'kind', 'result', 'detail', 'time'],
      result.gates.map((g) => [g.name, g.kind, g.outcome, g.detail, formatDuration(g.durationMs)]),
    );
  }
  if (result.applied.length > 0) {
    summary.details(
      `Objects applied (${result.applied.filter((a) => a.outcome !== 'unchanged').length} changed)`,
      result.applied.map((a) => `- ${a.outcome}: ${a.ref.kind} ${a.ref.name}`).join('\n'),
    );
  }
  if (result.notes.length > 0) summary.details('Notes', result.notes.map((n) => `- ${n}`).join('\n'));
}
