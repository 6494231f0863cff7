// The main job: the whole Greenlight pipeline on the local environment (testenv), with the committed dist
// bundles run exactly as the GitHub runner runs them. Every job summary is written to out/demo/.
//
//   1. build-image v1.0.0 (buildah) -> 2. audit the chart -> 3. deploy-bluegreen to staging -> 4. promote
//   5. build v1.1.0 -> 6. deploy it -> 7. promote; an error-rate gate fails after the flip -> automatic rollback
//   8. promote the exact release running in staging to production, by digest
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { CoreV1Api, type KubeConfig, type V1Service } from '@kubernetes/client-node';
import { exporter, kubeConfig, loadEnv, queryPrometheus, type TestEnv } from '../testenv/src/index.ts';
import { type RunContext, repoRoot, runStep, type StepResult } from './runner.ts';

const APP = 'demo-app';
const outDir = join(repoRoot, 'out', 'demo');
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s`;
const say = (line: string) => process.stdout.write(`[${elapsed()}] ${line}\n`);
const verbose = process.argv.includes('--verbose');

interface Recap {
  step: string;
  result: string;
}
const recap: Recap[] = [];
let stepNumber = 0;

/** Runs one action bundle as a workflow step, echoing its log (indented), and saves its job summary. */
async function step(
  title: string,
  action: string,
  inputs: Record<string, string>,
  context: RunContext,
  env: Record<string, string>,
  options: { expectFailure?: boolean; during?: (signal: AbortSignal) => Promise<void> } = {},
): Promise<StepResult> {
  stepNumber += 1;
  say(`▶ ${stepNumber}. ${title}`);
  const controller = new AbortController();
  const side = options
    .during?.(controller.signal)
    .catch((error: unknown) => say(`  (side task: ${String(error)})`));
  const result = await runStep(action, inputs, {
    context,
    env,
    onLine: (line) => {
      if (line.startsWith('::add-mask::') || line.startsWith('::debug::')) return;
      if (verbose || !line.startsWith('::')) process.stdout.write(`         │ ${line}\n`);
      else if (/^::(error|warning|notice)/.test(line))
        process.stdout.write(`         │ ${line.replace(/^::(\w+)[^:]*::/, '$1: ')}\n`);
    },
  });
  controller.abort();
  await side;
  const file = join(outDir, `${String(stepNumber).padStart(2, '0')}-${action}.md`);
  writeFileSync(file, `# ${stepNumber}. ${title}\n\n${result.summary || '_no summary written_'}\n`);
  const ok = result.status === 0;
  if (ok === Boolean(options.expectFailure)) {
    say(`✗ ${title}: exit ${result.status}${options.expectFailure ? ' (a failure was expected)' : ''}`);
    throw new Error(
      `demo step "${title}" ended with exit ${result.status}; its summary is ${relative(repoRoot, file)}`,
    );
  }
  say(`${ok ? '✓' : '✓ (failed as planned)'} ${title}`);
  return result;
}

function testenvUp(): TestEnv {
  say('starting the local environment (testenv up; the first run builds Kubernetes)');
  const result = spawnSync(process.execPath, [join(repoRoot, 'testenv', 'src', 'cli.ts'), 'up'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (result.status !== 0) throw new Error('testenv up failed; see the lines above');
  return loadEnv();
}

async function createNamespace(kc: KubeConfig, name: string): Promise<void> {
  await kc
    .makeApiClient(CoreV1Api)
    .createNamespace({ body: { metadata: { name, labels: { 'greenlight.dev/demo': 'true' } } } });
}

/** Resolves when the active Service selects `color`, so the demo can degrade the new colour right after the flip. */
async function whenServiceSelects(
  kc: KubeConfig,
  namespace: string,
  color: string,
  signal: AbortSignal,
): Promise<boolean> {
  const core = kc.makeApiClient(CoreV1Api);
  while (!signal.aborted) {
    const service: V1Service | undefined = await core
      .readNamespacedService({ name: APP, namespace })
      .catch(() => undefined);
    if (service?.spec?.selector?.['greenlight.dev/color'] === color) return true;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return false;
}

async function main(): Promise<void> {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const env = testenvUp();
  const kc = kubeConfig();
  const run = randomBytes(3).toString('hex');
  const staging = `demo-${run}-staging`;
  const production = `demo-${run}-production`;
  await createNamespace(kc, staging);
  await createNamespace(kc, production);
  const image = `${env.TESTENV_REGISTRY}/demo-${run}/${APP}`;
  // What a self-hosted runner of this machine would have: buildah's storage and the registries it may reach over
  // plain HTTP (testenv's loopback registries), the cluster's kubeconfig, and where Prometheus answers.
  const runner = Object.fromEntries(
    ['STORAGE_DRIVER', 'BUILDAH_ISOLATION', 'CONTAINERS_STORAGE_CONF', 'CONTAINERS_REGISTRIES_CONF'].flatMap(
      (name) => (env[name] ? [[name, env[name] as string]] : []),
    ),
  );
  // helm on PATH, as GitHub's runners ship it (Helm 4 here; the tests cover Helm 3 too).
  runner.PATH = `${dirname(env.TESTENV_HELM4)}:${process.env.PATH ?? ''}`;
  const kube = {
    ...runner,
    KUBECONFIG: env.KUBECONFIG,
    GREENLIGHT_PROMETHEUS_URL: env.TESTENV_PROMETHEUS_URL,
  };
  const errorRate = 'demo_http_error_ratio';
  await exporter.set(errorRate, 0, { app: APP });
  say(
    `namespaces ${staging} and ${production}; images in ${image}; summaries in ${relative(repoRoot, outDir)}/`,
  );

  const tagRules = [
    'type=semver,pattern={{version}}',
    'type=semver,pattern={{major}}.{{minor}}',
    'type=semver,pattern={{major}}',
    'type=sha',
  ].join('\n');
  const build = (version: string) =>
    step(
      `build-image v${version} with buildah, push and read the digest back`,
      'build-image',
      {
        image,
        context: 'examples/app',
        tags: tagRules,
        flavor: 'latest=auto',
        'build-args': `BASE_IMAGE=${env.TESTENV_BASE_IMAGE}\nAPP_VERSION=${version}`,
        builder: 'buildah',
      },
      { eventName: 'push', ref: `refs/tags/v${version}`, sha: randomBytes(20).toString('hex') },
      runner,
    );
  const gates = [
    '- endpoints: {}',
    '- prometheus:',
    `    query: max(${errorRate}{app="${APP}"})`,
    '    max: 0.05',
    '    evaluations: 2',
    '    interval: 1s',
  ].join('\n');
  const deploy = (namespace: string, environment: string, images: string, sha: string) =>
    step(
      `deploy-bluegreen ${images.split('@')[0]?.split('/').pop()} to ${environment} on the idle colour`,
      'deploy-bluegreen',
      {
        app: APP,
        namespace,
        environment,
        images,
        chart: 'examples/chart/demo-app',
        // The chart's values name the team's repository; `images` then pins it to the built digest.
        set: `image.repository=${image}`,
        'health-checks': gates,
        timeout: '5m',
      },
      { eventName: 'push', ref: 'refs/heads/main', sha },
      kube,
    );

  const v1 = await build('1.0.0');
  recap.push({
    step: 'build v1.0.0',
    result: `${v1.outputs.image} tags ${v1.outputs.tags
      ?.split('\n')
      .map((t) => t.split(':').pop())
      .join(', ')}`,
  });

  const audit = await step(
    'audit the chart (annotations, SARIF, JSON)',
    'audit',
    {
      path: 'examples/chart/demo-app',
      format: 'annotations,summary,sarif,json',
      'sarif-file': join(outDir, 'audit.sarif'),
      'json-file': join(outDir, 'audit.json'),
      'fail-on': 'error',
    },
    { eventName: 'pull_request', ref: 'refs/pull/1/merge', sha: randomBytes(20).toString('hex') },
    runner,
  );
  recap.push({
    step: 'audit',
    result: `${audit.outputs.findings} findings (${audit.outputs.errors} errors, ${audit.outputs.warnings} warnings)`,
  });

  const d1 = await deploy(staging, 'staging', v1.outputs.image as string, 'a'.repeat(40));
  const p1 = await step(
    'promote v1.0.0 in staging: one atomic flip, then a verification window',
    'promote',
    {
      app: APP,
      namespace: staging,
      environment: 'staging',
      'verify-for': '5s',
      'scale-down-delay': '2s',
      'health-checks': gates,
    },
    { eventName: 'workflow_dispatch', ref: 'refs/heads/main', sha: 'a'.repeat(40) },
    kube,
  );
  recap.push({
    step: 'staging v1.0.0',
    result: `deployed on ${d1.outputs.color}, active ${p1.outputs['active-color']}`,
  });

  const v2 = await build('1.1.0');
  const d2 = await deploy(staging, 'staging', v2.outputs.image as string, 'b'.repeat(40));
  const p2 = await step(
    'promote v1.1.0: the error rate climbs after the flip, so it switches back by itself',
    'promote',
    {
      app: APP,
      namespace: staging,
      environment: 'staging',
      'verify-for': '30s',
      'scale-down-delay': '2s',
      'health-checks': gates,
    },
    { eventName: 'workflow_dispatch', ref: 'refs/heads/main', sha: 'b'.repeat(40) },
    kube,
    {
      expectFailure: true,
      during: async (signal) => {
        if (await whenServiceSelects(kc, staging, d2.outputs.color as string, signal)) {
          say(`  traffic is on ${d2.outputs.color}: the demo raises ${errorRate} to 0.3`);
          await exporter.set(errorRate, 0.3, { app: APP });
        }
      },
    },
  );
  // The production gates read the same metric: wait until Prometheus has scraped the healthy value again.
  await exporter.set(errorRate, 0, { app: APP });
  await untilPrometheusReads(`max(${errorRate}{app="${APP}"})`, 0);
  recap.push({
    step: 'staging v1.1.0',
    result: `deployed on ${d2.outputs.color}, rolled back: ${p2.outputs['rolled-back']}, active ${p2.outputs['active-color']}`,
  });

  const p3 = await step(
    'promote the release active in staging to production, by digest (nothing rebuilt)',
    'promote',
    {
      app: APP,
      namespace: production,
      environment: 'production',
      'from-environment': 'staging',
      'from-namespace': staging,
      // Where the chart lives; its version and the image digests come from the staging release record.
      chart: 'examples/chart/demo-app',
      set: `image.repository=${image}`,
      'verify-for': '5s',
      'scale-down-delay': '2s',
      'health-checks': gates,
    },
    { eventName: 'workflow_dispatch', ref: 'refs/heads/main', sha: 'a'.repeat(40) },
    kube,
  );
  recap.push({
    step: 'production',
    result: `active ${p3.outputs['active-color']} running ${p3.outputs.image}`,
  });

  const index = [
    '# Greenlight demo',
    '',
    '| step | result |',
    '| --- | --- |',
    ...recap.map((r) => `| ${r.step} | ${r.result} |`),
    '',
  ];
  writeFileSync(join(outDir, 'README.md'), index.join('\n'));
  if (process.argv.includes('--cleanup')) {
    const core = kc.makeApiClient(CoreV1Api);
    await Promise.all([staging, production].map((name) => core.deleteNamespace({ name })));
  }
  say('done. What happened:');
  for (const r of recap) process.stdout.write(`  ${r.step.padEnd(16)} ${r.result}\n`);
  process.stdout.write(`Job summaries (Markdown with mermaid timelines): ${outDir}\n`);
}

main().catch((error: unknown) => {
  say(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.stdout.write(`Job summaries so far: ${outDir}\n`);
  process.exit(1);
});

/**
 * Waits until Prometheus reads `value` for `query` (it scrapes the exporter every second), at most 30 s. Prometheus
 * has no watch to wait on, so it asks every 250 ms.
 */
async function untilPrometheusReads(query: string, value: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const [sample] = await queryPrometheus(query);
    if (sample && Number(sample.value[1]) === value) return;
    if (Date.now() > deadline) throw new Error(`Prometheus did not read ${value} for ${query} within 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
