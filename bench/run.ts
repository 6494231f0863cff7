// The benchmarks of issue 9, in one command (`npm run bench`): prints a table and writes docs/benchmarks.md.
//
//   switch latency     deploy + promote through the cores, 20 runs; an independent watch (admin, straight to the API
//                      server) on the pods, the active Service and its EndpointSlices times, from watch events, the
//                      candidate's last pod turning Ready -> the selector patched -> the EndpointSlices switched
//   wall time          deploy + promote of a 3-replica app through the committed bundles, against the control plane
//                      rolling out a plain 3-replica Deployment (the ratio is the product's overhead)
//   API requests       per deploy and per promote, counted by verb at a private fault proxy
//   cold start         spawn of each committed bundle -> its first request seen at the proxy; bundle sizes
//   audit              bench/audit.ts (10,000 objects), run as it is
//   20 apps            deployed and promoted concurrently on one control plane: wall time and errors
//
// Options: --quick (fewer runs, for a smoke check), --no-write (do not touch docs/benchmarks.md).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  type KubeConfig,
  type KubernetesObject,
  type V1Deployment,
  type V1EndpointSlice,
  type V1Pod,
  type V1Service,
  Watch,
} from '@kubernetes/client-node';
import { repoRoot } from '../e2e/runner.ts';
import { appImage, appManifests, deployInputs, step, workspaceWith } from '../e2e/support/app.ts';
import { byVerb, type PrivateProxy, startPrivateProxy } from '../e2e/support/proxy.ts';
import { type DeployOptions, deployBlueGreen } from '../shared/src/bluegreen/deploy.ts';
import { promoteRelease } from '../shared/src/bluegreen/promote.ts';
import { parseManifests } from '../shared/src/chart/manifests.ts';
import { parseGates } from '../shared/src/health/spec.ts';
import { connect, type Kube } from '../shared/src/kube/client.ts';
import { rolloutComplete, rolloutStatus } from '../shared/src/kube/rollout.ts';
import { CliHost } from '../shared/src/runtime/host.ts';
import { PhaseClock } from '../shared/src/runtime/summary.ts';
import { createTestNamespace, kubeConfig, loadEnv, type TestNamespace } from '../testenv/src/index.ts';

// testenv first: `up` is idempotent (about a second when everything already runs), as the demo does it.
const up = spawnSync(process.execPath, [join(import.meta.dirname, '..', 'testenv', 'src', 'cli.ts'), 'up'], {
  stdio: ['ignore', 'ignore', 'inherit'],
});
if (up.status !== 0) {
  process.stderr.write('bench: testenv up failed; see the lines above\n');
  process.exit(1);
}

const quick = process.argv.includes('--quick');
const runs = { switch: quick ? 3 : 20, wall: quick ? 1 : 5, cold: quick ? 1 : 5, apps: quick ? 4 : 20 };
const env = loadEnv();
const kc = kubeConfig();
const admin: Kube = connect({ env: { KUBECONFIG: env.KUBECONFIG } });
const namespaces: TestNamespace[] = [];
const started = Date.now();
const loadAtStart = loadavg()[0] ?? 0;
const say = (line: string) =>
  process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);

// ------------------------------------------------------------------ statistics

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  const high = Math.ceil(at);
  return (sorted[low] as number) + ((sorted[high] as number) - (sorted[low] as number)) * (at - low);
}
const median = (values: readonly number[]) => quantile(values, 0.5);
const p95 = (values: readonly number[]) => quantile(values, 0.95);
const ms = (value: number) => (Number.isNaN(value) ? 'n/a' : `${Math.round(value)} ms`);
const s = (value: number) => `${(value / 1000).toFixed(1)} s`;
const bytesText = (bytes: number) =>
  bytes >= 2 ** 20 ? `${(bytes / 2 ** 20).toFixed(2)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;

// ------------------------------------------------------------------ the cores, quietly

function objectsOf(app: string) {
  return parseManifests(appManifests(app), `bench/${app}.yaml`).map((o) => ({
    object: o.object,
    source: o.source.file,
  }));
}

/** One deploy (and, when `promote`, its promotion under the same lock) of `app` through the cores. */
async function corePipeline(
  kube: Kube,
  namespace: string,
  app: string,
  tag: string,
  promote: boolean,
): Promise<void> {
  const host = new CliHost({ write: () => {} });
  const clock = new PhaseClock();
  const signal = new AbortController().signal;
  const gates = parseGates(undefined);
  const options: DeployOptions = {
    app,
    namespace,
    environment: 'prod',
    objects: objectsOf(app),
    images: [appImage(app, tag)],
    gates,
    timeoutMs: 120_000,
    keepFailed: false,
    holder: `bench:${process.pid}:${app}`,
    origin: {},
    prometheusUrl: env.TESTENV_PROMETHEUS_URL,
  };
  if (promote) {
    options.promote = async (_result, lock) => {
      const outcome = await promoteRelease({
        kube,
        app,
        namespace,
        environment: 'prod',
        host,
        clock,
        signal,
        env: process.env,
        lock,
        verifyForMs: 0,
        scaleDownDelayMs: 0,
        keepPrevious: false,
        route: 'service',
        timeoutMs: 120_000,
        gates,
        prometheusUrl: env.TESTENV_PROMETHEUS_URL,
      });
      if (outcome.failure) throw outcome.failure;
    };
  }
  await deployBlueGreen(kube, options, { host, clock, signal });
}

async function namespace(prefix: string): Promise<string> {
  const ns = await createTestNamespace(prefix);
  namespaces.push(ns);
  return ns.name;
}

// ------------------------------------------------------------------ an independent watch

type Handler<T> = (type: string, object: T, at: number) => void;

/** Watches `path` with the admin KubeConfig, calling `handler` with each event and its arrival time. */
async function watch<T extends KubernetesObject>(
  config: KubeConfig,
  path: string,
  query: Record<string, string>,
  handler: Handler<T>,
): Promise<() => void> {
  const controller = await new Watch(config).watch(
    path,
    query,
    (type: string, object: T) => handler(type, object, Date.now()),
    (error: unknown) => {
      if (error && !stopped) say(`watch ${path} ended: ${String(error)}`);
    },
  );
  let stopped = false;
  return () => {
    stopped = true;
    controller.abort();
  };
}

const isReady = (pod: V1Pod) =>
  !pod.metadata?.deletionTimestamp &&
  (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

interface SwitchRun {
  readyToPatch: number;
  readyToSlices: number;
  total: number;
}

/** 20 deploy + auto-promote runs through the cores; the watch times each switch. */
async function switchLatency(): Promise<SwitchRun[]> {
  const app = 'sw';
  const ns = await namespace('bench-switch');
  await corePipeline(admin, ns, app, '0', false);
  const pods = new Map<string, { color: string; ready: boolean; seenAt: number }>();
  const marks: { readyAt?: number; patchedAt?: number; slicesAt?: number; color?: string; since: number } = {
    since: 0,
  };
  const slices = new Map<string, V1EndpointSlice>();
  const colorOfPod = (name: string) =>
    name.startsWith(`${app}-blue-`) ? 'blue' : name.startsWith(`${app}-green-`) ? 'green' : '?';
  const checkSlices = (at: number) => {
    if (!marks.color || marks.slicesAt || !marks.patchedAt) return;
    const count: Record<string, number> = {};
    for (const slice of slices.values())
      for (const e of slice.endpoints ?? [])
        if (e.conditions?.ready !== false) {
          const c = colorOfPod(e.targetRef?.name ?? '');
          count[c] = (count[c] ?? 0) + 1;
        }
    const other = marks.color === 'blue' ? 'green' : 'blue';
    if ((count[marks.color] ?? 0) >= 3 && !count[other] && !count['?']) marks.slicesAt = at;
  };
  const stops = await Promise.all([
    watch<V1Pod>(
      kc,
      `/api/v1/namespaces/${ns}/pods`,
      { labelSelector: `greenlight.dev/app=${app}` },
      (type, pod, at) => {
        const name = pod.metadata?.name ?? '';
        if (type === 'DELETED') {
          pods.delete(name);
          return;
        }
        const known = pods.get(name);
        pods.set(name, { color: colorOfPod(name), ready: isReady(pod), seenAt: known?.seenAt ?? at });
        if (!marks.color || marks.readyAt) return;
        const fresh = [...pods.values()].filter((p) => p.color === marks.color && p.seenAt >= marks.since);
        if (fresh.length >= 3 && fresh.every((p) => p.ready)) marks.readyAt = at;
      },
    ),
    watch<V1Service>(
      kc,
      `/api/v1/namespaces/${ns}/services`,
      { fieldSelector: `metadata.name=${app}` },
      (_t, svc, at) => {
        if (marks.color && !marks.patchedAt && svc.spec?.selector?.['greenlight.dev/color'] === marks.color) {
          marks.patchedAt = at;
          checkSlices(at);
        }
      },
    ),
    watch<V1EndpointSlice>(
      kc,
      `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`,
      { labelSelector: `kubernetes.io/service-name=${app}` },
      (type, slice, at) => {
        const name = slice.metadata?.name ?? '';
        if (type === 'DELETED') slices.delete(name);
        else slices.set(name, slice);
        checkSlices(at);
      },
    ),
  ]);
  const results: SwitchRun[] = [];
  try {
    for (let i = 1; i <= runs.switch; i++) {
      const live = (await admin.core.readNamespacedService({ name: app, namespace: ns })).spec?.selector?.[
        'greenlight.dev/color'
      ];
      Object.assign(marks, {
        color: live === 'blue' ? 'green' : 'blue',
        since: Date.now(),
        readyAt: undefined,
        patchedAt: undefined,
        slicesAt: undefined,
      });
      const t0 = Date.now();
      await corePipeline(admin, ns, app, String(i % 10), true);
      const deadline = Date.now() + 10_000;
      while (!marks.slicesAt && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      if (marks.readyAt && marks.patchedAt && marks.slicesAt) {
        results.push({
          readyToPatch: marks.patchedAt - marks.readyAt,
          readyToSlices: marks.slicesAt - marks.readyAt,
          total: Date.now() - t0,
        });
      } else {
        say(`switch run ${i}: incomplete marks ${JSON.stringify(marks)}`);
      }
    }
  } finally {
    for (const stop of await Promise.all(stops)) stop();
  }
  return results;
}

// ------------------------------------------------------------------ wall time against the control plane

/** Creates a plain 3-replica Deployment and times it to complete (watch on the Deployment). */
async function plainRollout(ns: string, name: string): Promise<number> {
  const body: V1Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name, image: appImage(name, 'a'), ports: [{ containerPort: 8080 }] }] },
      },
    },
  };
  let done: (at: number) => void = () => {};
  const complete = new Promise<number>((resolve) => {
    done = resolve;
  });
  const stop = await watch<V1Deployment>(
    kc,
    `/apis/apps/v1/namespaces/${ns}/deployments`,
    { fieldSelector: `metadata.name=${name}` },
    (_type, deployment, at) => {
      if (rolloutComplete(rolloutStatus(deployment)) && (deployment.status?.availableReplicas ?? 0) === 3)
        done(at);
    },
  );
  const t0 = Date.now();
  await admin.apps.createNamespacedDeployment({ namespace: ns, body });
  const end = await complete;
  stop();
  return end - t0;
}

interface WallTimes {
  bundle: number[];
  core: number[];
  plain: number[];
}

async function wallTimes(
  proxy: PrivateProxy,
): Promise<{ walls: WallTimes; requests: Record<string, Record<string, number>> }> {
  const walls: WallTimes = { bundle: [], core: [], plain: [] };
  const requests: Record<string, Record<string, number>> = {};
  const ns = await namespace('bench-wall');
  for (let i = 0; i < runs.wall; i++) {
    // The bundles, as a workflow runs them, through the private proxy (it also counts the requests).
    const app = `wb${i}`;
    const through = { kubeconfigPath: proxy.kubeconfigPath, workspace: workspaceWith(app) };
    await proxy.resetStats();
    const first = await step('deploy-bluegreen', deployInputs(app, ns, 'a'), through);
    if (first.status !== 0) throw new Error(`bench deploy failed: ${first.log.slice(-1500)}`);
    if (i === 0) requests['first deploy (goes live)'] = byVerb(await proxy.stats());
    await proxy.resetStats();
    const t0 = Date.now();
    const deploy = await step('deploy-bluegreen', deployInputs(app, ns, 'b'), through);
    if (i === 0) requests['deploy (candidate beside live)'] = byVerb(await proxy.stats());
    await proxy.resetStats();
    const promote = await step(
      'promote',
      { app, namespace: ns, environment: 'prod', 'verify-for': '0s', 'scale-down-delay': '0s' },
      through,
    );
    walls.bundle.push(Date.now() - t0);
    if (i === 0) requests['promote (verify-for 0s, scale-down-delay 0s)'] = byVerb(await proxy.stats());
    if (deploy.status !== 0 || promote.status !== 0)
      throw new Error(`bench deploy/promote failed: ${deploy.log.slice(-800)}\n${promote.log.slice(-800)}`);
    // The cores in this process, straight to the API server: no Node start-up, no proxy.
    const coreApp = `wc${i}`;
    await corePipeline(admin, ns, coreApp, 'a', false);
    const t1 = Date.now();
    await corePipeline(admin, ns, coreApp, 'b', true);
    walls.core.push(Date.now() - t1);
    walls.plain.push(await plainRollout(ns, `plain${i}`));
    say(
      `wall time run ${i + 1}/${runs.wall}: bundles ${s(walls.bundle.at(-1) ?? 0)}, cores ${s(walls.core.at(-1) ?? 0)}, plain ${s(walls.plain.at(-1) ?? 0)}`,
    );
  }
  return { walls, requests };
}

// ------------------------------------------------------------------ cold start and sizes

interface ColdStart {
  bundle: string;
  bytes: number;
  gzip: number;
  firstRequest: number[];
  note: string;
}

/** Spawns a bundle and resolves with the milliseconds until the proxy saw its first request. */
async function coldStart(
  proxy: PrivateProxy,
  action: string,
  inputs: Record<string, string>,
  workspace: string,
): Promise<number> {
  await proxy.resetStats();
  const envVars: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    KUBECONFIG: proxy.kubeconfigPath,
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: workspace,
    RUNNER_TEMP: workspace,
  };
  for (const [name, value] of Object.entries(inputs)) envVars[`INPUT_${name.toUpperCase()}`] = value;
  const t0 = Date.now();
  const child = spawn(process.execPath, [join(repoRoot, 'actions', action, 'dist', 'index.js')], {
    env: envVars,
    cwd: workspace,
    stdio: 'ignore',
  });
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  let first: number | undefined;
  const deadline = Date.now() + 20_000;
  while (first === undefined && Date.now() < deadline) {
    const stats = await proxy.stats();
    const at = stats.recent[0]?.at;
    if (at) first = Date.parse(at) - t0;
    else await new Promise((r) => setTimeout(r, 10));
  }
  child.kill('SIGTERM');
  await exited;
  if (first === undefined) throw new Error(`${action}: no request within 20 s`);
  return first;
}

async function coldStarts(proxy: PrivateProxy): Promise<ColdStart[]> {
  const ns = await namespace('bench-cold');
  const workspace = workspaceWith('cold');
  const kubeActions: [string, Record<string, string>][] = [
    ['deploy-bluegreen', deployInputs('cold', ns, 'a')],
    ['promote', { app: 'cold', namespace: ns, environment: 'prod' }],
    ['audit', { cluster: 'true', namespaces: ns, format: 'summary' }],
  ];
  const out: ColdStart[] = [];
  // What a start loads: the action's small entry and the shared core bundle it imports.
  const core = join(repoRoot, 'dist', 'greenlight.js');
  const size = (file: string) => {
    const files = existsSync(core) && file !== core ? [file, core] : [file];
    return {
      bytes: files.reduce((sum, f) => sum + statSync(f).size, 0),
      gzip: files.reduce((sum, f) => sum + gzipSync(readFileSync(f)).length, 0),
    };
  };
  for (const [action, inputs] of kubeActions) {
    const times: number[] = [];
    for (let i = 0; i < runs.cold; i++) times.push(await coldStart(proxy, action, inputs, workspace));
    out.push({
      bundle: `actions/${action}`,
      ...size(join(repoRoot, 'actions', action, 'dist', 'index.js')),
      firstRequest: times,
      note: 'first API request',
    });
  }
  // build-image never calls Kubernetes: its cold start is measured to its exit on an input error instead.
  const times: number[] = [];
  for (let i = 0; i < runs.cold; i++) {
    const t0 = Date.now();
    const child = spawn(process.execPath, [join(repoRoot, 'actions', 'build-image', 'dist', 'index.js')], {
      env: { PATH: process.env.PATH ?? '', GITHUB_ACTIONS: 'true', INPUT_IMAGE: 'Bad Image!!' },
      stdio: 'ignore',
    });
    await new Promise<void>((resolve) => child.on('close', () => resolve()));
    times.push(Date.now() - t0);
  }
  out.push({
    bundle: 'actions/build-image',
    ...size(join(repoRoot, 'actions', 'build-image', 'dist', 'index.js')),
    firstRequest: times,
    note: 'exit on an input error (no Kubernetes call)',
  });
  const root = join(repoRoot, 'dist', 'index.js');
  if (existsSync(root))
    out.push({ bundle: 'root action (dist/index.js)', ...size(root), firstRequest: [], note: 'size only' });
  return out;
}

// ------------------------------------------------------------------ audit

function auditBench(): Promise<string> {
  const file = join(repoRoot, 'bench', 'audit.ts');
  if (!existsSync(file)) return Promise.resolve('(bench/audit.ts is not there)');
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
    });
    child.on('close', (code) =>
      resolve(code === 0 ? text.trim() : `bench/audit.ts exited ${code}:\n${text.trim()}`),
    );
  });
}

// ------------------------------------------------------------------ 20 apps at once

async function concurrentApps(): Promise<{ wall: number; errors: string[]; each: number[] }> {
  const ns = await Promise.all(Array.from({ length: runs.apps }, (_, i) => namespace(`bench-many-${i}`)));
  const errors: string[] = [];
  const each: number[] = [];
  const t0 = Date.now();
  await Promise.all(
    ns.map(async (name, i) => {
      const app = `many${i}`;
      const t = Date.now();
      try {
        await corePipeline(admin, name, app, 'a', false);
        await corePipeline(admin, name, app, 'b', true);
        each.push(Date.now() - t);
      } catch (error) {
        errors.push(`${app}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
      }
    }),
  );
  return { wall: Date.now() - t0, errors, each };
}

// ------------------------------------------------------------------ main

async function kubernetesVersion(): Promise<string> {
  const response = await admin.config
    .makeApiClient((await import('@kubernetes/client-node')).VersionApi)
    .getCode();
  return response.gitVersion;
}

async function main(): Promise<void> {
  const proxy = await startPrivateProxy();
  const k8s = await kubernetesVersion();
  try {
    say('switch latency');
    const switches = await switchLatency();
    say('wall time and API requests');
    const { walls, requests } = await wallTimes(proxy);
    say('cold start and bundle sizes');
    const cold = await coldStarts(proxy);
    say('audit (bench/audit.ts)');
    const audit = await auditBench();
    say(`${runs.apps} apps at once`);
    const many = await concurrentApps();
    const loadAtEnd = loadavg()[0] ?? 0;

    const overhead = (x: number[]) => (median(x) / median(walls.plain)).toFixed(1);
    const verbs = ['GET', 'WATCH', 'POST', 'PUT', 'PATCH', 'DELETE'];
    const lines: string[] = [
      '# Benchmarks',
      '',
      `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC by \`npm run bench\` (bench/run.ts${quick ? ', --quick' : ''}) in ${s(Date.now() - started)}.`,
      '',
      '| machine | |',
      '| --- | --- |',
      `| CPU | ${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown'} |`,
      `| memory | ${(totalmem() / 2 ** 30).toFixed(0)} GiB |`,
      `| Node | ${process.version} |`,
      `| Kubernetes | ${k8s} (testenv: kube-apiserver, controller-manager, scheduler, etcd; KWOK nodes) |`,
      `| load average (1 min) | ${loadAtStart.toFixed(1)} at the start, ${loadAtEnd.toFixed(1)} at the end |`,
      '',
      'The machine is shared: other engineers run their test suites on the same cores and the same control plane at',
      'the same time, so every wall-clock figure here includes their load. Ratios taken in the same minutes (the',
      'overhead against a plain rollout) are steadier than the absolute times.',
      '',
      `## Switch latency (${switches.length} runs)`,
      '',
      'Each run deploys a new version of a 3-replica app on the idle colour and promotes it at once, through the',
      'cores (`deployBlueGreen` with `promoteRelease` under its lock; no verification window). A separate watch',
      'with its own connection to the API server, on the pods, the active Service and its EndpointSlices, takes the',
      "time of each event as it arrives: when the last of the candidate's new pods turns Ready, when the Service's",
      "selector names the candidate, and when the Service's EndpointSlices hold the candidate's 3 ready endpoints and",
      'no other. What lies between the first two is the product: the health gates (the endpoints gate waits for the',
      "preview Service's EndpointSlices), the release record, the re-check of the candidate and the patch.",
      '',
      '| from the last candidate pod Ready to | median | p95 |',
      '| --- | --- | --- |',
      `| the active Service's selector patched | ${ms(median(switches.map((r) => r.readyToPatch)))} | ${ms(p95(switches.map((r) => r.readyToPatch)))} |`,
      `| its EndpointSlices switched | ${ms(median(switches.map((r) => r.readyToSlices)))} | ${ms(p95(switches.map((r) => r.readyToSlices)))} |`,
      `| (from the selector patched to the EndpointSlices switched) | ${ms(median(switches.map((r) => r.readyToSlices - r.readyToPatch)))} | ${ms(p95(switches.map((r) => r.readyToSlices - r.readyToPatch)))} |`,
      `| (whole deploy + promote run) | ${ms(median(switches.map((r) => r.total)))} | ${ms(p95(switches.map((r) => r.total)))} |`,
      '',
      `## Deploy + promote against a plain rollout (${walls.plain.length} runs each, medians)`,
      '',
      'A 3-replica app already live on blue: deploy the next version on green, then promote (`verify-for: 0s`,',
      '`scale-down-delay: 0s`: the waits a user chooses are left out). The plain rollout is the control plane alone:',
      'create a 3-replica Deployment and watch it until all 3 replicas are available.',
      '',
      '| what | median | ratio to plain |',
      '| --- | --- | --- |',
      `| plain 3-replica Deployment, create to available | ${s(median(walls.plain))} | 1.0 |`,
      `| deploy + promote, the committed bundles as the runner runs them (two Node start-ups included) | ${s(median(walls.bundle))} | ${overhead(walls.bundle)} |`,
      `| deploy + promote, the cores in one process | ${s(median(walls.core))} | ${overhead(walls.core)} |`,
      '',
      '## API requests (counted at a private fault proxy, by verb)',
      '',
      `| step | ${verbs.join(' | ')} | total |`,
      `| --- | ${verbs.map(() => '---').join(' | ')} | --- |`,
      ...Object.entries(requests).map(
        ([name, counts]) =>
          `| ${name} | ${verbs.map((v) => String(counts[v] ?? 0)).join(' | ')} | ${Object.values(counts).reduce((a, b) => a + b, 0)} |`,
      ),
      '',
      'WATCH is a GET with `watch=true`; GET counts reads and lists. The lock accounts for a POST (take the Lease), PUTs',
      '(renewals, only in long steps) and a DELETE (release). The steps run as the runner runs them, through the',
      'bundles; the count is of one run of each (the first of the wall-time runs).',
      '',
      `## Cold start and bundle size (${runs.cold} starts each, median)`,
      '',
      '| bundle | size | gzip | spawn to | median |',
      '| --- | --- | --- | --- | --- |',
      ...cold.map(
        (c) =>
          `| ${c.bundle} | ${bytesText(c.bytes)} | ${bytesText(c.gzip)} | ${c.note} | ${c.firstRequest.length ? ms(median(c.firstRequest)) : '-'} |`,
      ),
      '',
      '## Audit throughput (bench/audit.ts)',
      '',
      '```',
      audit,
      '```',
      '',
      `## ${runs.apps} apps deployed and promoted at once`,
      '',
      `${runs.apps} apps, each in its own namespace on the one control plane, each a first deploy (goes live on blue)`,
      'then the next version deployed on green and promoted, all started together in one process through the cores.',
      '',
      '| wall time | per app, median | per app, slowest | errors |',
      '| --- | --- | --- | --- |',
      `| ${s(many.wall)} | ${s(median(many.each))} | ${many.each.length ? s(Math.max(...many.each)) : 'n/a'} | ${many.errors.length} |`,
      ...(many.errors.length ? ['', ...many.errors.map((e) => `- ${e}`)] : []),
      '',
    ];
    const text = lines.join('\n');
    process.stdout.write(`${text}\n`);
    if (!process.argv.includes('--no-write')) {
      writeFileSync(join(repoRoot, 'docs', 'benchmarks.md'), text);
      say('written to docs/benchmarks.md');
    }
  } finally {
    await proxy.close();
    await Promise.all(namespaces.map((n) => n.delete()));
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
