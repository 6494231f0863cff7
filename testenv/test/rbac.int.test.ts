import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestNamespace,
  kubeConfig,
  serviceAccountKubeconfig,
  type TestNamespace,
} from '../src/index.ts';
import { apiStatus } from '../src/kube.ts';

async function status(call: () => Promise<unknown>): Promise<number> {
  try {
    await call();
    return 200;
  } catch (error) {
    const code = apiStatus(error);
    if (code === undefined) throw error;
    return code;
  }
}

describe('least privilege', () => {
  let ns: TestNamespace;
  let other: TestNamespace;
  let sa: CoreV1Api;
  beforeAll(async () => {
    ns = await createTestNamespace('rbac');
    other = await createTestNamespace('rbac-other');
    const yaml = await serviceAccountKubeconfig(ns.name, 'reader', [
      { apiGroups: [''], resources: ['pods', 'configmaps'], verbs: ['get', 'list'] },
    ]);
    const kc = new KubeConfig();
    kc.loadFromString(yaml);
    sa = kc.makeApiClient(CoreV1Api);
  });
  afterAll(async () => {
    await ns?.delete();
    await other?.delete();
  });

  it('allows what the Role grants', async () => {
    expect(await status(() => sa.listNamespacedPod({ namespace: ns.name }))).toBe(200);
    expect(await status(() => sa.listNamespacedConfigMap({ namespace: ns.name }))).toBe(200);
  });

  it('refuses other verbs, other resources and other namespaces with 403', async () => {
    expect(
      await status(() =>
        sa.createNamespacedConfigMap({ namespace: ns.name, body: { metadata: { name: 'x' } } }),
      ),
    ).toBe(403);
    expect(await status(() => sa.listNamespacedSecret({ namespace: ns.name }))).toBe(403);
    expect(await status(() => sa.listNamespacedPod({ namespace: other.name }))).toBe(403);
    expect(await status(() => sa.listNamespace())).toBe(403);
  });

  it('accepts a Role given as YAML, and works through the fault proxy', async () => {
    const yaml = await serviceAccountKubeconfig(
      ns.name,
      'writer',
      'apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: ignored\nrules:\n- apiGroups: [""]\n  resources: [configmaps]\n  verbs: [create, get]\n',
      { viaProxy: true },
    );
    const kc = new KubeConfig();
    kc.loadFromString(yaml);
    expect(kc.getCurrentCluster()?.server).toBe(kubeConfig({ viaProxy: true }).getCurrentCluster()?.server);
    const writer = kc.makeApiClient(CoreV1Api);
    expect(
      await status(() =>
        writer.createNamespacedConfigMap({
          namespace: ns.name,
          body: { metadata: { name: 'made-by-writer' } },
        }),
      ),
    ).toBe(200);
    expect(
      await status(() => writer.deleteNamespacedConfigMap({ namespace: ns.name, name: 'made-by-writer' })),
    ).toBe(403);
  });
});
