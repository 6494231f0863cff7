// What the reliability suite and the benchmarks deploy: a small app given as manifests (no chart, so no helm run
// in the measurements), the committed bundles run as the runner runs them, and the invariant checked after every
// fault: nothing is half-switched.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { V1EndpointSlice, V1Pod, V1Service } from '@kubernetes/client-node';
import YAML from 'yaml';
import { endpointCensus, formatCensus, isServingPod } from '../../shared/src/bluegreen/switch.ts';
import { connect, type Kube } from '../../shared/src/kube/client.ts';
import { isNotFound } from '../../shared/src/kube/errors.ts';
import {
  activeRevision,
  candidateRevision,
  type ReleaseRecord,
  settleSwitch,
} from '../../shared/src/release/record.ts';
import { readRecord } from '../../shared/src/release/store.ts';
import { loadEnv } from '../../testenv/src/index.ts';
import { type RunOptions, runStep, type StepResult } from '../runner.ts';

/** A digest-pinned image of the app on testenv's registry; `tag` makes one digest per version. */
export function appImage(app: string, tag: string): string {
  return `${loadEnv().TESTENV_REGISTRY}/reliability/${app}@sha256:${tag.repeat(64).slice(0, 64)}`;
}

export interface AppShape {
  replicas?: number;
  /** Pod template annotations (testenv's podBehaviour). */
  annotations?: Record<string, string>;
}

/** The app as a chart would render it: a Deployment and its Service. */
export function appManifests(app: string, shape: AppShape = {}): string {
  const labels = { app };
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: app, labels },
    spec: {
      replicas: shape.replicas ?? 3,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels, annotations: shape.annotations ?? {} },
        spec: {
          containers: [
            {
              name: app,
              image: `${loadEnv().TESTENV_REGISTRY}/reliability/${app}:latest`,
              ports: [{ containerPort: 8080 }],
            },
          ],
        },
      },
    },
  };
  const service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: app },
    spec: { selector: labels, ports: [{ port: 80, targetPort: 8080 }] },
  };
  return [deployment, service].map((o) => YAML.stringify(o)).join('---\n');
}

/** A throwaway workspace holding `manifests/<app>.yaml`; returns its folder (the runner's GITHUB_WORKSPACE). */
export function workspaceWith(app: string, shape: AppShape = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'greenlight-ws-'));
  mkdirSync(join(dir, 'manifests'));
  writeFileSync(join(dir, 'manifests', `${app}.yaml`), appManifests(app, shape));
  return dir;
}

/** Every log line any step of this process produced, for the secret scan. */
export const allLogs: string[] = [];

export interface StepOptions extends Partial<RunOptions> {
  /** Kubeconfig path the bundle reads through KUBECONFIG. */
  kubeconfigPath: string;
  workspace: string;
  runId?: string;
}

/** Runs a committed bundle (`deploy-bluegreen`, `promote`, ...) as the runner would, against `kubeconfigPath`. */
export async function step(
  action: string,
  inputs: Record<string, string>,
  options: StepOptions,
): Promise<StepResult> {
  const env = loadEnv();
  const result = await runStep(action, inputs, {
    context: {
      eventName: 'workflow_dispatch',
      ref: 'refs/heads/main',
      sha: 'c'.repeat(40),
      runId: options.runId ?? String(Math.floor(Math.random() * 1e9)),
    },
    workspace: options.workspace,
    signal: options.signal,
    onLine: options.onLine,
    env: {
      KUBECONFIG: options.kubeconfigPath,
      // helm on PATH, as GitHub's runners ship it.
      PATH: `${dirname(env.TESTENV_HELM4)}:${process.env.PATH ?? ''}`,
      GREENLIGHT_PROMETHEUS_URL: env.TESTENV_PROMETHEUS_URL,
      ...options.env,
    },
  });
  allLogs.push(result.log, result.summary, JSON.stringify(result.outputs));
  return result;
}

/** The deploy inputs for `app` in `namespace` (environment `prod`), with the manifests workspaceWith wrote for `manifestsOf`. */
export function deployInputs(
  app: string,
  namespace: string,
  tag: string,
  manifestsOf = app,
): Record<string, string> {
  return {
    app,
    namespace,
    environment: 'prod',
    manifests: `manifests/${manifestsOf}.yaml`,
    images: appImage(manifestsOf, tag),
    timeout: '30s',
  };
}

/** The promote inputs for `app` in `namespace`, with a short verification window and scale-down delay. */
export function promoteInputs(app: string, namespace: string): Record<string, string> {
  return {
    app,
    namespace,
    environment: 'prod',
    'verify-for': '2s',
    'scale-down-delay': '1s',
    timeout: '30s',
  };
}

/** An admin Kube straight to the API server (not through any proxy), for checks. */
export function adminKube(): Kube {
  return connect({ env: { KUBECONFIG: loadEnv().KUBECONFIG } });
}

/** What serves an app, as seen directly on the API server. */
export interface ServingState {
  /** The colour the active Service selects, undefined when it selects none or both. */
  color: string | undefined;
  selector: Record<string, string>;
  census: string;
  readyPods: Record<string, number>;
  /** The record as stored (it may hold a switch note an interrupted run left). */
  record: ReleaseRecord;
  /** The switch note left in the record, in words, or undefined when there is none. */
  note: string | undefined;
  problems: string[];
}

/**
 * Checks the non-negotiable after a fault: the active Service selects exactly one colour, that colour has ready
 * pods and only its endpoints are ready behind the Service, and the release record's active revision is that
 * colour, as the next run reads the record: a switch note left by an interrupted run is first settled from where
 * traffic goes (`settleSwitch`, the product's own rule), so a note that would settle wrongly is a problem too.
 * Waits up to `settleMs` for the EndpointSlice controller to catch up with a selector change.
 */
export async function servingState(
  kube: Kube,
  namespace: string,
  app: string,
  settleMs = 10_000,
): Promise<ServingState> {
  const deadline = Date.now() + settleMs;
  for (;;) {
    const state = await observe(kube, namespace, app);
    if (state.problems.length === 0 || Date.now() > deadline) return state;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function observe(kube: Kube, namespace: string, app: string): Promise<ServingState> {
  const problems: string[] = [];
  let service: V1Service | undefined;
  try {
    service = await kube.core.readNamespacedService({ name: app, namespace });
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  const selector = service?.spec?.selector ?? {};
  const selected = selector['greenlight.dev/color'];
  const color = selected === 'blue' || selected === 'green' ? selected : undefined;
  if (!service) problems.push(`Service ${app} does not exist`);
  else if (!color) problems.push(`Service ${app} selects no single colour: ${JSON.stringify(selector)}`);
  const pods: V1Pod[] = (
    await kube.core.listNamespacedPod({ namespace, labelSelector: `greenlight.dev/app=${app}` })
  ).items;
  const readyPods: Record<string, number> = { blue: 0, green: 0 };
  for (const pod of pods) {
    const c = pod.metadata?.labels?.['greenlight.dev/color'] ?? '?';
    if (isServingPod(pod)) readyPods[c] = (readyPods[c] ?? 0) + 1;
  }
  const slices: V1EndpointSlice[] = (
    await kube.discovery.listNamespacedEndpointSlice({
      namespace,
      labelSelector: `kubernetes.io/service-name=${app}`,
    })
  ).items;
  const census = endpointCensus(slices, pods);
  if (color) {
    if ((readyPods[color] ?? 0) === 0) problems.push(`the active colour ${color} has no ready pod`);
    const other = color === 'blue' ? 'green' : 'blue';
    if (census.ready[color] === 0 || census.ready[other] > 0 || census.readyUnknown > 0)
      problems.push(`Service ${app} endpoints are not ${color} only: ${formatCensus(census)}`);
  }
  const { record } = await readRecord(kube, { namespace, app, environment: 'prod' });
  const settled = settleSwitch(record, color);
  const note = record.switching
    ? `${record.switching.action} to revision ${record.switching.revision} on ${record.switching.color} (${settled.settlement.kind} by the next run)`
    : undefined;
  const active = activeRevision(settled.record);
  if (color && active?.color !== color)
    problems.push(
      `the record says ${active ? `${active.color} (revision ${active.revision})` : 'nothing'} is active, the Service selects ${color}`,
    );
  return { color, selector, census: formatCensus(census), readyPods, record, note, problems };
}

/** The candidate revision of the record, if any (for messages). */
export function candidateOf(record: ReleaseRecord): string {
  const c = candidateRevision(record);
  return c ? `${c.color} revision ${c.revision} (${c.status})` : 'none';
}
