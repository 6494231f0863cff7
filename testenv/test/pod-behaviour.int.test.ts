import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestNamespace,
  type KubeObject,
  kubeConfig,
  podBehaviour,
  type TestNamespace,
} from '../src/index.ts';
import { createDeployment, deployment, isReady, watchPods } from './helpers.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('pod behaviour from pod template annotations', () => {
  const kc = kubeConfig();
  let ns: TestNamespace;
  beforeAll(async () => {
    ns = await createTestNamespace('pods');
  });
  afterAll(async () => {
    await ns?.delete();
  });

  it('makes a plain pod Running and Ready within seconds', async () => {
    const started = Date.now();
    await createDeployment(kc, ns.name, deployment('plain', 1));
    await watchPods(
      kc,
      ns.name,
      'plain',
      'a ready plain pod',
      (pods) => (pods.some(isReady) ? true : undefined),
      15_000,
    );
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('never-ready: the container runs but the pod never turns Ready', async () => {
    await createDeployment(kc, ns.name, deployment('never', 1, podBehaviour.neverReady));
    const running = await watchPods(kc, ns.name, 'never', 'a running never-ready pod', (pods) =>
      pods.find((p) => p.status?.phase === 'Running' && p.status?.containerStatuses?.[0]?.state?.running),
    );
    await sleep(4_000);
    const pod = await kc
      .makeApiClient(CoreV1Api)
      .readNamespacedPod({ name: running.metadata.name, namespace: ns.name });
    expect(pod.status?.phase).toBe('Running');
    expect(pod.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('False');
    expect(pod.status?.containerStatuses?.[0]?.ready).toBe(false);
  });

  it('ready-after: Ready only once the given seconds have passed since the container started', async () => {
    const seconds = 5;
    await createDeployment(kc, ns.name, deployment('slow', 1, podBehaviour.readyAfter(seconds)));
    const runningAt = await watchPods(kc, ns.name, 'slow', 'a running slow pod', (pods) =>
      pods.some((p) => p.status?.phase === 'Running') ? Date.now() : undefined,
    );
    const ready = await watchPods(
      kc,
      ns.name,
      'slow',
      'the slow pod Ready',
      (pods) => pods.find(isReady),
      30_000,
    );
    const readyAt = Date.now();
    expect(readyAt - runningAt).toBeGreaterThanOrEqual((seconds - 1.5) * 1000);
    const startedAt = Date.parse(ready.status.containerStatuses[0].state.running.startedAt);
    const transition = Date.parse(
      ready.status.conditions.find((c: KubeObject) => c.type === 'Ready').lastTransitionTime,
    );
    expect(transition - startedAt).toBeGreaterThanOrEqual((seconds - 1) * 1000);
  });

  it('crash-loop: the restart count grows and the container waits in CrashLoopBackOff', async () => {
    await createDeployment(kc, ns.name, deployment('crash', 1, podBehaviour.crashLoop));
    const reasons = new Set<string>();
    const pod = await watchPods(
      kc,
      ns.name,
      'crash',
      'a crash-looping pod with 2 restarts',
      (pods) => {
        const status = pods[0]?.status?.containerStatuses?.[0];
        if (status?.state?.waiting?.reason) reasons.add(status.state.waiting.reason);
        return status?.restartCount >= 2 && reasons.has('CrashLoopBackOff') ? pods[0] : undefined;
      },
      45_000,
    );
    const status = pod.status.containerStatuses[0];
    expect(status.restartCount).toBeGreaterThanOrEqual(2);
    expect(status.lastState.terminated.exitCode).toBe(1);
    expect(isReady(pod)).toBe(false);
  });

  it('image-pull-failure: the container waits with ErrImagePull, then ImagePullBackOff', async () => {
    await createDeployment(kc, ns.name, deployment('pull', 1, podBehaviour.imagePullFailure));
    const reasons: string[] = [];
    await watchPods(
      kc,
      ns.name,
      'pull',
      'ErrImagePull and ImagePullBackOff',
      (pods) => {
        const reason = pods[0]?.status?.containerStatuses?.[0]?.state?.waiting?.reason;
        if (reason && reasons.at(-1) !== reason) reasons.push(reason);
        return reasons.includes('ErrImagePull') && reasons.includes('ImagePullBackOff') ? true : undefined;
      },
      30_000,
    );
    expect(reasons.indexOf('ErrImagePull')).toBeLessThan(reasons.indexOf('ImagePullBackOff'));
    const pods = await kc
      .makeApiClient(CoreV1Api)
      .listNamespacedPod({ namespace: ns.name, labelSelector: 'app=pull' });
    expect(pods.items[0]?.status?.phase).toBe('Pending');
  });
});
