// Puts an app on testenv in the state deploy-bluegreen leaves it in: `<app>-blue` and `<app>-green` Deployments,
// the active Service `<app>` on the live colour, the preview Service `<app>-preview` on the candidate, and the
// release record saying which revision is active and which is the candidate. The promote tests start from here.
import type { V1Deployment, V1Service } from '@kubernetes/client-node';
import { createTestNamespace, kubeConfig } from '../../../testenv/src/index.ts';
import { waitForColorReady } from '../../src/bluegreen/rollback.ts';
import { APP_LABEL, COLOR_LABEL, type SwitchContext } from '../../src/bluegreen/switch.ts';
import type { Kube } from '../../src/kube/client.ts';
import { kubeFromConfig } from '../../src/kube/client.ts';
import { deploymentSource, watchUntil } from '../../src/kube/watch.ts';
import {
  type Color,
  emptyRecord,
  nextRevisionNumber,
  putRevision,
  type ReleaseRevision,
  type RevisionStatus,
} from '../../src/release/record.ts';
import { readRecord, updateRecord, writeRecord } from '../../src/release/store.ts';
import { CliHost } from '../../src/runtime/host.ts';
import { PhaseClock } from '../../src/runtime/summary.ts';

export const APP = 'api';
export const ENVIRONMENT = 'production';
export const digests: Record<Color, string> = {
  blue: `sha256:${'b'.repeat(64)}`,
  green: `sha256:${'9'.repeat(64)}`,
};
export const imageFor = (color: Color) => `registry.test:5000/shop/api@${digests[color]}`;

/** A Kube on testenv, and a namespace of its own. */
export async function testCluster(prefix: string) {
  const kube = kubeFromConfig(kubeConfig());
  const namespace = await createTestNamespace(prefix);
  return { kube, namespace };
}

/** A host that keeps every line it is given, for assertions on messages. */
export function recordingHost() {
  const lines: string[] = [];
  const host = new CliHost({ write: (line) => lines.push(line) });
  return { host, lines, log: () => lines.join('\n') };
}

export function colorDeploymentObject(
  namespace: string,
  color: Color,
  replicas: number,
  annotations: Record<string, string> = {},
  recreate = false,
): V1Deployment {
  const labels = { [APP_LABEL]: APP, [COLOR_LABEL]: color };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: `${APP}-${color}`, namespace, labels },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      strategy: recreate ? { type: 'Recreate' } : undefined,
      template: {
        metadata: { labels, annotations },
        spec: { containers: [{ name: 'app', image: imageFor(color), ports: [{ containerPort: 8080 }] }] },
      },
    },
  };
}

function serviceObject(namespace: string, name: string, color: Color): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace, labels: { [APP_LABEL]: APP } },
    spec: {
      selector: { [APP_LABEL]: APP, [COLOR_LABEL]: color },
      ports: [{ name: 'http', port: 80, targetPort: 8080 }],
    },
  };
}

export function revisionOf(
  n: number,
  color: Color,
  status: RevisionStatus,
  replicas: number,
): ReleaseRevision {
  const now = new Date().toISOString();
  return {
    revision: n,
    color,
    status,
    deployment: `${APP}-${color}`,
    images: [
      { repository: 'registry.test:5000/shop/api', digest: digests[color], reference: imageFor(color) },
    ],
    createdAt: now,
    updatedAt: now,
    ready: true,
    gates: [],
    replicas,
    appVersion: color === 'blue' ? '1.0.0' : '1.1.0',
  };
}

export interface BlueGreenOptions {
  live: Color;
  replicas?: number;
  /** Deploy the other colour as a ready candidate (default true). */
  candidate?: boolean;
  candidateRecreate?: boolean;
}

/** Creates both colours, the Services and the record; waits until both colours are ready. */
export async function setupBlueGreen(kube: Kube, namespace: string, options: BlueGreenOptions) {
  const replicas = options.replicas ?? 2;
  const live = options.live;
  const idle: Color = live === 'blue' ? 'green' : 'blue';
  const withCandidate = options.candidate ?? true;
  await kube.apps.createNamespacedDeployment({
    namespace,
    body: colorDeploymentObject(namespace, live, replicas),
  });
  if (withCandidate) {
    await kube.apps.createNamespacedDeployment({
      namespace,
      body: colorDeploymentObject(namespace, idle, replicas, {}, options.candidateRecreate),
    });
  }
  await kube.core.createNamespacedService({ namespace, body: serviceObject(namespace, APP, live) });
  await kube.core.createNamespacedService({
    namespace,
    body: serviceObject(namespace, `${APP}-preview`, idle),
  });
  const { host } = recordingHost();
  const context: SwitchContext = { kube, namespace, host, deadline: Date.now() + 120_000 };
  await waitForColorReady(context, APP, live, replicas);
  if (withCandidate) await waitForColorReady(context, APP, idle, replicas);
  let record = emptyRecord(APP, ENVIRONMENT, namespace);
  record = putRevision(record, revisionOf(1, live, 'active', replicas));
  if (withCandidate) record = putRevision(record, revisionOf(2, idle, 'candidate', replicas));
  await writeRecord(kube, record, undefined);
  return { live, idle, replicas };
}

/** Records the idle colour as a fresh candidate again (what re-deploying the same release there records). */
export async function markIdleAsCandidate(kube: Kube, namespace: string, idle: Color, replicas: number) {
  await updateRecord(kube, { namespace, app: APP, environment: ENVIRONMENT }, (record) => {
    const retired = record.revisions.map((r) =>
      r.status === 'previous' || r.status === 'candidate' ? { ...r, status: 'retired' as const } : r,
    );
    const next = { ...record, revisions: retired };
    return putRevision(next, revisionOf(nextRevisionNumber(next), idle, 'candidate', replicas));
  });
}

/** The record as it is now. */
export async function currentRecord(kube: Kube, namespace: string) {
  return (await readRecord(kube, { namespace, app: APP, environment: ENVIRONMENT })).record;
}

/** The colour the active Service selects now. */
export async function activeSelectorColor(kube: Kube, namespace: string): Promise<string | undefined> {
  const service = await kube.core.readNamespacedService({ name: APP, namespace });
  return service.spec?.selector?.[COLOR_LABEL];
}

/** The run context every promote needs, with a fresh clock and no cancellation. */
export function runContext(host: CliHost, env: NodeJS.ProcessEnv = {}) {
  return { host, clock: new PhaseClock(), signal: new AbortController().signal, env };
}

/** Waits, by watch, until the active Service selects `color`. */
export async function waitForSelector(kube: Kube, namespace: string, color: Color, timeoutMs = 60_000) {
  const fieldSelector = `metadata.name=${APP}`;
  await watchUntil(
    kube,
    [
      {
        path: `/api/v1/namespaces/${namespace}/services`,
        fieldSelector,
        list: () => kube.core.listNamespacedService({ namespace, fieldSelector }),
      },
    ] as const,
    ([services]) => (services[0]?.spec?.selector?.[COLOR_LABEL] === color ? true : undefined),
    {
      deadline: Date.now() + timeoutMs,
      what: `Service ${APP} selecting ${color}`,
      onTimeout: () => new Error(`Service ${namespace}/${APP} did not select ${color} in time`),
    },
  );
}

/** Waits, by watch, until the colour's Deployment satisfies `check`. */
export async function waitForDeployment(
  kube: Kube,
  namespace: string,
  color: Color,
  check: (deployment: V1Deployment) => boolean,
  timeoutMs = 60_000,
) {
  await watchUntil(
    kube,
    [deploymentSource(kube, namespace, `${APP}-${color}`)] as const,
    ([deployments]) => (deployments[0] && check(deployments[0]) ? true : undefined),
    {
      deadline: Date.now() + timeoutMs,
      what: `Deployment ${APP}-${color}`,
      onTimeout: () => new Error(`Deployment ${namespace}/${APP}-${color} did not reach the state in time`),
    },
  );
}
