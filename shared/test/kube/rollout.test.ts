import type { V1Deployment, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { newestPods, podProblem, rolloutComplete, rolloutStatus } from '../../src/kube/rollout.ts';

function deployment(replicas: number, status: V1Deployment['status'], generation = 2): V1Deployment {
  return {
    metadata: {
      name: 'api-green',
      uid: 'd1',
      generation,
      annotations: { 'deployment.kubernetes.io/revision': '3' },
    },
    spec: { replicas, selector: {}, template: {} },
    status,
  };
}

function pod(name: string, hash: string, status: V1Pod['status'] = {}): V1Pod {
  return { metadata: { name, labels: { 'pod-template-hash': hash } }, status };
}

describe('rollout status', () => {
  it.each([
    [
      'complete',
      deployment(3, {
        observedGeneration: 2,
        updatedReplicas: 3,
        readyReplicas: 3,
        availableReplicas: 3,
        replicas: 3,
      }),
      true,
    ],
    [
      'not yet observed',
      deployment(3, {
        observedGeneration: 1,
        updatedReplicas: 3,
        readyReplicas: 3,
        availableReplicas: 3,
        replicas: 3,
      }),
      false,
    ],
    [
      'old pods still there',
      deployment(3, {
        observedGeneration: 2,
        updatedReplicas: 3,
        readyReplicas: 4,
        availableReplicas: 3,
        replicas: 4,
      }),
      false,
    ],
    [
      'not all ready',
      deployment(3, {
        observedGeneration: 2,
        updatedReplicas: 3,
        readyReplicas: 2,
        availableReplicas: 2,
        replicas: 3,
      }),
      false,
    ],
    ['scaled to zero', deployment(0, { observedGeneration: 2 }), true],
  ])('%s', (_, d, complete) => {
    expect(rolloutComplete(rolloutStatus(d))).toBe(complete);
  });
});

describe('pod problems that fail a rollout at once', () => {
  it.each([
    [
      'CrashLoopBackOff',
      {
        containerStatuses: [
          {
            name: 'api',
            image: 'x',
            imageID: '',
            ready: false,
            restartCount: 4,
            state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s' } },
          },
        ],
      },
      'CrashLoopBackOff',
      'back-off 40s after 4 restarts',
    ],
    [
      'ErrImagePull in an init container',
      {
        initContainerStatuses: [
          {
            name: 'init',
            image: 'x',
            imageID: '',
            ready: false,
            restartCount: 0,
            state: { waiting: { reason: 'ErrImagePull', message: 'not found' } },
          },
        ],
      },
      'ErrImagePull',
      'not found',
    ],
    [
      'Unschedulable',
      {
        conditions: [
          {
            type: 'PodScheduled',
            status: 'False',
            reason: 'Unschedulable',
            message: '0/3 nodes: insufficient cpu',
          },
        ],
      },
      'Unschedulable',
      '0/3 nodes: insufficient cpu',
    ],
  ])('%s', (_, status, reason, message) => {
    expect(podProblem(pod('p', 'h', status as V1Pod['status']))).toMatchObject({ pod: 'p', reason, message });
  });

  it('lets a container that is still being created wait', () => {
    const status = {
      containerStatuses: [
        {
          name: 'api',
          image: 'x',
          imageID: '',
          ready: false,
          restartCount: 0,
          state: { waiting: { reason: 'ContainerCreating' } },
        },
      ],
    };
    expect(podProblem(pod('p', 'h', status))).toBeUndefined();
  });
});

describe('newest pods', () => {
  it('keeps only the pods of the ReplicaSet at the Deployment revision', () => {
    const replicaSets: V1ReplicaSet[] = [
      {
        metadata: {
          name: 'old',
          labels: { 'pod-template-hash': 'aaa' },
          annotations: { 'deployment.kubernetes.io/revision': '2' },
          ownerReferences: [{ uid: 'd1', apiVersion: 'apps/v1', kind: 'Deployment', name: 'api-green' }],
        },
      },
      {
        metadata: {
          name: 'new',
          labels: { 'pod-template-hash': 'bbb' },
          annotations: { 'deployment.kubernetes.io/revision': '3' },
          ownerReferences: [{ uid: 'd1', apiVersion: 'apps/v1', kind: 'Deployment', name: 'api-green' }],
        },
      },
    ];
    const pods = [pod('old-1', 'aaa'), pod('new-1', 'bbb'), pod('new-2', 'bbb')];
    expect(newestPods(deployment(2, {}), replicaSets, pods).map((p) => p.metadata?.name)).toEqual([
      'new-1',
      'new-2',
    ]);
    expect(newestPods(deployment(2, {}), [], pods)).toEqual([]);
  });
});
