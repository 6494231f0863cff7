// Times deploy-bluegreen against testenv's real control plane: a first deploy, a second deploy beside it, an
// idempotent re-run, and how long a crash loop and an image pull failure take to fail the deploy. Prints the
// median of each over a few rounds, per phase. Not a test: the figures go to docs/deploy-bluegreen.md.
// Run (testenv up): node bench/deploy-bluegreen.ts [rounds] [replicas]
import { cpus } from 'node:os';
import type { KubernetesObject } from '@kubernetes/client-node';
import { type DeployOptions, deployBlueGreen, emptyResult } from '../shared/src/bluegreen/deploy.ts';
import { connect } from '../shared/src/kube/client.ts';
import { CliHost } from '../shared/src/runtime/host.ts';
import { PhaseClock } from '../shared/src/runtime/summary.ts';
import { createTestNamespace, loadEnv, podBehaviour } from '../testenv/src/index.ts';

const ROUNDS = Number(process.argv[2] ?? 3);
const REPLICAS = Number(process.argv[3] ?? 3);
const env = loadEnv();
const kube = connect({ env: { KUBECONFIG: env.KUBECONFIG } });

function objects(version: string, annotations: Record<string, string> = {}): KubernetesObject[] {
  const labels = { app: 'api' };
  return [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'api', labels: { ...labels, 'app.kubernetes.io/version': version } },
      spec: {
        replicas: REPLICAS,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels, annotations },
          spec: { containers: [{ name: 'api', image: `${env.TESTENV_REGISTRY}/shop/api:${version}` }] },
        },
      },
    } as KubernetesObject,
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'api' },
      spec: { selector: labels, ports: [{ port: 80 }] },
    } as KubernetesObject,
  ];
}

async function deploy(namespace: string, version: string, annotations?: Record<string, string>) {
  const options: DeployOptions = {
    app: 'api',
    namespace,
    environment: 'bench',
    objects: objects(version, annotations).map((object) => ({ object })),
    images: [],
    gates: [{ kind: 'endpoints', name: 'endpoints' }],
    timeoutMs: 120_000,
    keepFailed: false,
    holder: `bench:${process.pid}`,
    origin: {},
  };
  const clock = new PhaseClock();
  const started = performance.now();
  let failed = false;
  try {
    await deployBlueGreen(
      kube,
      options,
      { host: new CliHost({ write: () => {} }), clock, signal: new AbortController().signal },
      emptyResult(options),
    );
  } catch {
    failed = true;
  }
  return { total: performance.now() - started, phases: clock.phases, failed };
}

const samples = new Map<string, number[]>();
const add = (name: string, ms: number) => samples.set(name, [...(samples.get(name) ?? []), ms]);
for (let round = 0; round < ROUNDS; round++) {
  const ns = await createTestNamespace('bench-deploy');
  try {
    const runs: [string, string, Record<string, string> | undefined, boolean][] = [
      ['first deploy', '1.0.0', undefined, false],
      ['second deploy', '1.1.0', undefined, false],
      ['re-run (no change)', '1.1.0', undefined, false],
      ['crash loop fails', '1.2.0', podBehaviour.crashLoop, true],
      ['pull failure fails', '1.3.0', podBehaviour.imagePullFailure, true],
    ];
    for (const [name, version, annotations, shouldFail] of runs) {
      const run = await deploy(ns.name, version, annotations);
      if (run.failed !== shouldFail)
        throw new Error(`${name}: expected ${shouldFail ? 'a failure' : 'success'}`);
      add(`${name}: total`, run.total);
      for (const phase of run.phases) add(`${name}: ${phase.name}`, phase.durationMs);
    }
  } finally {
    await ns.delete();
  }
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
console.log(
  `deploy-bluegreen on testenv, ${REPLICAS} replicas, ${ROUNDS} rounds, ${cpus().length} CPUs (median ms)`,
);
for (const [name, values] of samples)
  console.log(`${name.padEnd(40)} ${Math.round(median(values)).toString().padStart(7)}`);
