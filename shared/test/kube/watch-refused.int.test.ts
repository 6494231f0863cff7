// A wait whose watch is refused (401, 403, 404) fails at once, as a refused list does, instead of retrying until
// its deadline. The 403 is real: testenv's API server with RBAC, and a ServiceAccount whose Role grants `list`
// but not `watch`. client-node drops the Status of a refused watch, so the error names the permission from the
// watch's path. The 401 and 404 come from a private fault proxy that refuses the watch and lets the list through.

import type { KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PrivateProxy, startPrivateProxy } from '../../../e2e/support/proxy.ts';
import {
  createTestNamespace,
  serviceAccountKubeconfig,
  type TestNamespace,
} from '../../../testenv/src/index.ts';
import { connect, type Kube } from '../../src/kube/client.ts';
import { RBAC_ROLE_PATH } from '../../src/kube/errors.ts';
import { deploymentSource, podSource, type WatchSource, watchUntil } from '../../src/kube/watch.ts';
import { GreenlightError } from '../../src/runtime/errors.ts';

/** How long the waits below would retry a refused watch; they must fail well before. */
const DEADLINE_MS = 30_000;
const PROMPT_MS = 5_000;

/** Runs a wait that never succeeds on its own and returns how it failed and after how long. */
async function refusedWait(
  kube: Kube,
  source: WatchSource<KubernetesObject>,
): Promise<{ error: unknown; ms: number; timedOut: boolean }> {
  let timedOut = false;
  const started = Date.now();
  const error = await watchUntil(kube, [source] as const, () => undefined, {
    deadline: started + DEADLINE_MS,
    what: 'the test objects',
    onTimeout: () => {
      timedOut = true;
      return new Error('the deadline passed');
    },
  }).then(
    () => undefined,
    (failure: unknown) => failure,
  );
  return { error, ms: Date.now() - started, timedOut };
}

describe('a wait whose watch is refused', () => {
  let ns: TestNamespace;
  let proxy: PrivateProxy;
  beforeAll(async () => {
    ns = await createTestNamespace('kube-watch-refused');
    proxy = await startPrivateProxy();
  });
  afterAll(async () => {
    await proxy?.close();
    await ns?.delete();
  });

  it('by RBAC fails at once, naming the watch permission on the resource and its API group', async () => {
    const kubeconfig = await serviceAccountKubeconfig(ns.name, 'lister', [
      { apiGroups: [''], resources: ['pods'], verbs: ['list'] },
      { apiGroups: ['apps'], resources: ['deployments'], verbs: ['list'] },
    ]);
    const user = 'the identity in the kubeconfig';
    const kube = connect({ kubeconfig, env: {} });

    const pods = await refusedWait(kube, podSource(kube, ns.name, 'app=api'));
    expect(pods.timedOut).toBe(false);
    expect(pods.ms).toBeLessThan(PROMPT_MS);
    expect(pods.error).toBeInstanceOf(GreenlightError);
    const podsError = pods.error as GreenlightError;
    expect(podsError.reason).toBe(`permission denied: ${user} may not watch pods in namespace "${ns.name}"`);
    expect(podsError.hint).toBe(
      `grant the verb "watch" on "pods" (apiGroup "") to ${user}; ${RBAC_ROLE_PATH} is the Role Greenlight needs`,
    );
    expect(podsError.message).toContain(`watch /api/v1/namespaces/${ns.name}/pods (the test objects)`);

    const deployments = await refusedWait(kube, deploymentSource(kube, ns.name, 'api'));
    expect(deployments.timedOut).toBe(false);
    expect(deployments.ms).toBeLessThan(PROMPT_MS);
    const deploymentsError = deployments.error as GreenlightError;
    expect(deploymentsError.reason).toBe(
      `permission denied: ${user} may not watch deployments.apps in namespace "${ns.name}"`,
    );
    expect(deploymentsError.hint).toContain('grant the verb "watch" on "deployments" (apiGroup "apps")');
  });

  it('by RBAC for the list too: the Status of the list names the user and the verb', async () => {
    const kubeconfig = await serviceAccountKubeconfig(ns.name, 'getter', [
      { apiGroups: [''], resources: ['pods'], verbs: ['get'] },
    ]);
    const kube = connect({ kubeconfig, env: {} });
    const { error, ms, timedOut } = await refusedWait(kube, podSource(kube, ns.name, 'app=api'));
    expect(timedOut).toBe(false);
    expect(ms).toBeLessThan(PROMPT_MS);
    expect((error as GreenlightError).reason).toBe(
      `permission denied: system:serviceaccount:${ns.name}:getter may not list pods in namespace "${ns.name}"`,
    );
  });

  it.each([
    [401, /the API server rejected the credentials \(401 Unauthorized\)/],
    [404, /not found/],
  ])('with %i fails at once', async (status, reason) => {
    const rule = await proxy.add({
      kind: 'status',
      status,
      method: 'GET',
      path: `/namespaces/${ns.name}/pods\\?.*watch=true`,
    });
    try {
      const kube = connect({ kubeconfig: proxy.kubeconfig, env: {} });
      const { error, ms, timedOut } = await refusedWait(kube, podSource(kube, ns.name, 'app=api'));
      expect(timedOut).toBe(false);
      expect(ms).toBeLessThan(PROMPT_MS);
      expect(error).toBeInstanceOf(GreenlightError);
      expect((error as GreenlightError).reason).toMatch(reason);
      expect((await proxy.list()).find((r) => r.id === rule.id)?.applied).toBe(1);
    } finally {
      await proxy.remove(rule.id);
    }
  });
});
