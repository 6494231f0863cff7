import { CoreV1Api, VersionApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestNamespace,
  type KubeObject,
  kubeConfig,
  type TestNamespace,
  watchUntil,
} from '../src/index.ts';
import { createDeployment, deployment, isReady, watchPods } from './helpers.ts';

describe('control plane', () => {
  const kc = kubeConfig();
  let ns: TestNamespace;
  beforeAll(async () => {
    ns = await createTestNamespace('cluster');
  });
  afterAll(async () => {
    await ns?.delete();
  });

  it('is the pinned Kubernetes version with three Ready KWOK nodes', async () => {
    const version = await kc.makeApiClient(VersionApi).getCode();
    expect(version.gitVersion).toBe(process.env.TESTENV_K8S_VERSION);
    const nodes = await kc.makeApiClient(CoreV1Api).listNode({ labelSelector: 'type=kwok' });
    expect(nodes.items.length).toBeGreaterThanOrEqual(3);
    for (const node of nodes.items) {
      expect(node.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
      expect(node.status?.nodeInfo?.kubeletVersion).toBe(process.env.TESTENV_K8S_VERSION);
      expect(node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address).toMatch(
        /^10\.240\.0\.\d+$/,
      );
      expect(node.status?.addresses?.find((a) => a.type === 'Hostname')?.address).toBe(node.metadata?.name);
    }
  });

  it('rolls a 3-replica Deployment out until it is Available, spread over the nodes', async () => {
    await createDeployment(kc, ns.name, deployment('web', 3));
    const available = await watchUntil(
      kc,
      { path: `/apis/apps/v1/namespaces/${ns.name}/deployments`, fieldSelector: 'metadata.name=web' },
      (items) => {
        const d = items.get(`${ns.name}/web`);
        const condition = d?.status?.conditions?.find((c: KubeObject) => c.type === 'Available');
        return d &&
          d.status?.observedGeneration >= d.metadata.generation &&
          d.status?.availableReplicas === 3 &&
          condition?.status === 'True'
          ? d
          : undefined;
      },
      {
        timeoutMs: 60_000,
        what: 'Deployment web Available with 3 replicas',
        describe: (items) => JSON.stringify(items.get(`${ns.name}/web`)?.status),
      },
    );
    expect(available.status.readyReplicas).toBe(3);
    const pods = await kc
      .makeApiClient(CoreV1Api)
      .listNamespacedPod({ namespace: ns.name, labelSelector: 'app=web' });
    expect(pods.items).toHaveLength(3);
    const nodes = await kc.makeApiClient(CoreV1Api).listNode({ labelSelector: 'type=kwok' });
    const nodeIPs = new Map(
      nodes.items.map((n) => [
        n.metadata?.name,
        n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address,
      ]),
    );
    for (const pod of pods.items) {
      expect(pod.spec?.nodeName).toMatch(/^testenv-node-/);
      expect(pod.status?.hostIP).toBe(nodeIPs.get(pod.spec?.nodeName));
      expect(pod.status?.podIP).toBeTruthy();
      expect(pod.status?.phase).toBe('Running');
    }
  });

  it('lists the ready pods of a Service in its EndpointSlices', async () => {
    await createDeployment(kc, ns.name, deployment('api', 3));
    await kc.makeApiClient(CoreV1Api).createNamespacedService({
      namespace: ns.name,
      body: {
        metadata: { name: 'api' },
        spec: { selector: { app: 'api' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
      },
    });
    const podIPs = await watchPods(kc, ns.name, 'api', '3 ready api pods', (pods) => {
      const ready = pods.filter(isReady);
      return ready.length === 3 ? ready.map((p) => p.status.podIP as string).sort() : undefined;
    });
    const slices = await watchUntil(
      kc,
      {
        path: `/apis/discovery.k8s.io/v1/namespaces/${ns.name}/endpointslices`,
        labelSelector: 'kubernetes.io/service-name=api',
      },
      (items) => {
        const ready = [...items.values()]
          .flatMap((s) => s.endpoints ?? [])
          .filter((e: KubeObject) => e.conditions?.ready);
        return ready.length === 3 ? [...items.values()] : undefined;
      },
      {
        timeoutMs: 30_000,
        what: 'EndpointSlices of Service api with 3 ready endpoints',
        describe: (s) => JSON.stringify([...s.values()].map((x) => x.endpoints)),
      },
    );
    const sliceIPs = slices
      .flatMap((s) => s.endpoints)
      .filter((e: KubeObject) => e.conditions?.ready)
      .flatMap((e: KubeObject) => e.addresses)
      .sort();
    expect(sliceIPs).toEqual(podIPs);
    expect(slices[0]?.ports?.[0]?.port).toBe(8080);
  });
});
