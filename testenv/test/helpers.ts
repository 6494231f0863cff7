// Shared by the testenv integration tests.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { AppsV1Api, type KubeConfig, type V1Deployment } from '@kubernetes/client-node';
import { type KubeObject, watchUntil } from '../src/index.ts';

export const exec = promisify(execFile);

export function deployment(
  name: string,
  replicas: number,
  annotations: Record<string, string> = {},
  image = 'registry.invalid/app:1',
): V1Deployment {
  return {
    metadata: { name, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name }, annotations },
        spec: { containers: [{ name: 'app', image, ports: [{ containerPort: 8080, name: 'http' }] }] },
      },
    },
  };
}

export async function createDeployment(kc: KubeConfig, namespace: string, body: V1Deployment): Promise<void> {
  await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({ namespace, body });
}

export function isReady(pod: KubeObject): boolean {
  return (pod.status?.conditions ?? []).some((c: KubeObject) => c.type === 'Ready' && c.status === 'True');
}

/** Watches the pods of `app` until `done` returns a value. */
export function watchPods<T>(
  kc: KubeConfig,
  namespace: string,
  app: string,
  what: string,
  done: (pods: KubeObject[]) => T | undefined,
  timeoutMs = 60_000,
): Promise<T> {
  return watchUntil(
    kc,
    { path: `/api/v1/namespaces/${namespace}/pods`, labelSelector: `app=${app}` },
    (pods) => done([...pods.values()]),
    {
      timeoutMs,
      what,
      describe: (pods) =>
        [...pods.values()]
          .map(
            (p) =>
              `${p.metadata.name} phase=${p.status?.phase} ready=${isReady(p)} containers=${JSON.stringify(p.status?.containerStatuses?.map((c: KubeObject) => c.state))}`,
          )
          .join('; ') || 'no pods',
    },
  );
}
