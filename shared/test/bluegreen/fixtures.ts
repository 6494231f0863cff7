// Shared set-up for the deploy integration tests: a Kube for testenv's cluster, a host that keeps its log lines,
// and the objects of a small app as a chart would render them.
import type { KubernetesObject } from '@kubernetes/client-node';
import { createTestNamespace, loadEnv, type TestNamespace } from '../../../testenv/src/index.ts';
import {
  type DeployOptions,
  type DeployResult,
  deployBlueGreen,
  emptyResult,
} from '../../src/bluegreen/deploy.ts';
import type { SourcedObject } from '../../src/bluegreen/plan.ts';
import type { GateSpec } from '../../src/health/spec.ts';
import { connect, type Kube } from '../../src/kube/client.ts';
import { CliHost } from '../../src/runtime/host.ts';
import { PhaseClock } from '../../src/runtime/summary.ts';

/** A Kube for testenv's cluster (the admin), or for a kubeconfig's content. */
export function testKube(kubeconfig?: string): Kube {
  const env = loadEnv();
  return connect(kubeconfig ? { kubeconfig } : { env: { KUBECONFIG: env.KUBECONFIG } });
}

/** A digest-pinned image on testenv's registry (a host with a port). */
export function image(tag = 'a'): string {
  return `${loadEnv().TESTENV_REGISTRY}/shop/api@sha256:${tag.repeat(64).slice(0, 64)}`;
}

export interface AppOptions {
  replicas?: number;
  annotations?: Record<string, string>;
  config?: Record<string, string>;
  service?: boolean;
  hpa?: boolean;
  version?: string;
  nodeSelector?: Record<string, string>;
  /** A Secret `api-secret` with this stringData, read by the container as env. */
  secret?: Record<string, string>;
  progressDeadlineSeconds?: number;
}

/** The objects of app `api` as a chart renders them: a Deployment, a Service, a ConfigMap it uses, maybe an HPA. */
export function appObjects(options: AppOptions = {}): SourcedObject[] {
  const labels = { app: 'api' };
  const objects: KubernetesObject[] = [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: 'api',
        labels: { ...labels, 'app.kubernetes.io/version': options.version ?? '1.0.0' },
      },
      spec: {
        replicas: options.replicas ?? 2,
        progressDeadlineSeconds: options.progressDeadlineSeconds,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels, annotations: options.annotations ?? {} },
          spec: {
            nodeSelector: options.nodeSelector,
            containers: [
              {
                name: 'api',
                image: `${loadEnv().TESTENV_REGISTRY}/shop/api:latest`,
                ports: [{ containerPort: 8080 }],
                envFrom: [
                  { configMapRef: { name: 'api-config' } },
                  ...(options.secret ? [{ secretRef: { name: 'api-secret' } }] : []),
                ],
              },
            ],
          },
        },
      },
    } as KubernetesObject,
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'api-config' },
      data: options.config ?? { MODE: 'one' },
    } as KubernetesObject,
  ];
  if (options.secret) {
    objects.push({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'api-secret' },
      stringData: options.secret,
    } as KubernetesObject);
  }
  if (options.service !== false) {
    objects.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'api' },
      spec: { selector: labels, ports: [{ port: 80, targetPort: 8080 }] },
    } as KubernetesObject);
  }
  if (options.hpa) {
    objects.push({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'api' },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' },
        minReplicas: 1,
        maxReplicas: 5,
      },
    } as KubernetesObject);
  }
  return objects.map((object) => ({ object, source: `test/${object.kind}.yaml` }));
}

/** A host that keeps every line. */
export function testHost(): { host: CliHost; lines: string[] } {
  const lines: string[] = [];
  return { host: new CliHost({ write: (line) => lines.push(line) }), lines };
}

export interface RunOptions extends Partial<DeployOptions> {
  namespace: string;
  signal?: AbortSignal;
  shape?: AppOptions;
}

/** Runs a deploy of app `api` into `namespace`, returning the result (also on failure) and the log. */
export async function runDeploy(
  kube: Kube,
  options: RunOptions,
): Promise<{ result: DeployResult; error?: unknown; lines: string[]; clock: PhaseClock }> {
  const { host, lines } = testHost();
  const clock = new PhaseClock();
  const deployOptions: DeployOptions = {
    app: 'api',
    environment: 'staging',
    objects: appObjects(options.shape),
    images: [image()],
    gates: [{ kind: 'endpoints', name: 'endpoints' }] as GateSpec[],
    timeoutMs: 60_000,
    keepFailed: false,
    holder: `test:${process.pid}:${Math.random().toString(36).slice(2, 8)}`,
    lockTtlSeconds: 6,
    origin: { gitSha: 'abc123' },
    ...options,
  };
  delete (deployOptions as Partial<RunOptions>).shape;
  const result = emptyResult(deployOptions);
  try {
    await deployBlueGreen(
      kube,
      deployOptions,
      { host, clock, signal: options.signal ?? new AbortController().signal },
      result,
    );
    return { result, lines, clock };
  } catch (error) {
    return { result, error, lines, clock };
  }
}

export type { TestNamespace };
export { createTestNamespace };
