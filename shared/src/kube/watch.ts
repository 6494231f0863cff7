import {
  type KubernetesListObject,
  type KubernetesObject,
  ListWatch,
  type V1Deployment,
  type V1EndpointSlice,
  type V1Lease,
  type V1Pod,
  type V1ReplicaSet,
  Watch,
} from '@kubernetes/client-node';
import type { Kube } from './client.ts';
import { kubeError, statusCode } from './errors.ts';

/** A collection to list and then watch from the listed resourceVersion. */
export interface WatchSource<T extends KubernetesObject> {
  /** Collection path, e.g. `/api/v1/namespaces/shop/pods`. */
  path: string;
  list: () => Promise<KubernetesListObject<T>>;
  labelSelector?: string;
  fieldSelector?: string;
}

type Views<S extends readonly WatchSource<KubernetesObject>[]> = {
  [K in keyof S]: S[K] extends WatchSource<infer T> ? readonly T[] : never;
};

export interface WatchUntilOptions {
  /** Epoch milliseconds after which the wait fails with `onTimeout`. */
  deadline: number;
  /** Stops the wait (rejecting with the signal's reason) when aborted. */
  signal?: AbortSignal;
  /** The error to fail with at the deadline, given what was last seen (or nothing when no list succeeded yet). */
  onTimeout: () => Error;
  /** What is being waited for, for errors about the watch itself. */
  what: string;
}

/**
 * Lists and watches one or more collections (client-node's ListWatch: list, then watch from that
 * resourceVersion, re-list on 410 Gone) and calls `evaluate` with the current objects after every change,
 * until it returns a value (success), throws (fail fast: a crash loop, a pull failure), the deadline passes, or
 * the signal aborts. A refused watch (401, 403, 404) fails at once with the permission named.
 */
export function watchUntil<const S extends readonly WatchSource<KubernetesObject>[], R>(
  kube: Kube,
  sources: S,
  evaluate: (views: Views<S>) => R | undefined,
  options: WatchUntilOptions,
): Promise<R> {
  const watch = new Watch(kube.config);
  const informers = sources.map(
    (source) =>
      new ListWatch<KubernetesObject>(
        source.path,
        watch,
        source.list,
        false,
        source.labelSelector,
        source.fieldSelector,
      ),
  );
  const synced = sources.map(() => false);
  return new Promise<R>((resolve, reject) => {
    let finished = false;
    const timers = new Set<NodeJS.Timeout>();
    const finish = (error: unknown, value?: R) => {
      if (finished) return;
      finished = true;
      clearTimeout(deadlineTimer);
      for (const timer of timers) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      for (const informer of informers) void informer.stop();
      if (error !== undefined) reject(error);
      else resolve(value as R);
    };
    const onAbort = () => finish(options.signal?.reason ?? new Error('aborted'));
    if (options.signal?.aborted) {
      reject(options.signal.reason);
      return;
    }
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const deadlineTimer = setTimeout(
      () => {
        try {
          finish(options.onTimeout());
        } catch (error) {
          finish(error);
        }
      },
      Math.max(0, options.deadline - Date.now()),
    );
    const check = () => {
      if (finished || synced.some((s) => !s)) return;
      try {
        const value = evaluate(informers.map((informer) => informer.list()) as Views<S>);
        if (value !== undefined) finish(undefined, value);
      } catch (error) {
        finish(error);
      }
    };
    const startOne = (index: number) => {
      const informer = informers[index] as ListWatch<KubernetesObject>;
      informer.start().then(
        () => {
          synced[index] = true;
          check();
        },
        (error: unknown) => onError(index, error),
      );
    };
    const onError = (index: number, error: unknown) => {
      if (finished) return;
      const status = statusCode(error);
      const source = sources[index] as WatchSource<KubernetesObject>;
      if (status === 401 || status === 403 || status === 404) {
        finish(kubeError(error, { what: `watch ${source.path} (${options.what})`, server: kube.server }));
        return;
      }
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (!finished) startOne(index);
      }, 1000);
      timers.add(timer);
    };
    informers.forEach((informer, index) => {
      informer.on('change', check);
      informer.on('error', (error: unknown) => onError(index, error));
      startOne(index);
    });
  });
}

/** The Deployment `name`, alone. */
export function deploymentSource(kube: Kube, namespace: string, name: string): WatchSource<V1Deployment> {
  const fieldSelector = `metadata.name=${name}`;
  return {
    path: `/apis/apps/v1/namespaces/${namespace}/deployments`,
    fieldSelector,
    list: () => kube.apps.listNamespacedDeployment({ namespace, fieldSelector }),
  };
}

/** Pods matching a label selector. */
export function podSource(kube: Kube, namespace: string, labelSelector: string): WatchSource<V1Pod> {
  return {
    path: `/api/v1/namespaces/${namespace}/pods`,
    labelSelector,
    list: () => kube.core.listNamespacedPod({ namespace, labelSelector }),
  };
}

/** ReplicaSets matching a label selector. */
export function replicaSetSource(
  kube: Kube,
  namespace: string,
  labelSelector: string,
): WatchSource<V1ReplicaSet> {
  return {
    path: `/apis/apps/v1/namespaces/${namespace}/replicasets`,
    labelSelector,
    list: () => kube.apps.listNamespacedReplicaSet({ namespace, labelSelector }),
  };
}

/** The EndpointSlices of Service `service`. */
export function endpointSliceSource(
  kube: Kube,
  namespace: string,
  service: string,
): WatchSource<V1EndpointSlice> {
  const labelSelector = `kubernetes.io/service-name=${service}`;
  return {
    path: `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices`,
    labelSelector,
    list: () => kube.discovery.listNamespacedEndpointSlice({ namespace, labelSelector }),
  };
}

/** The Lease `name`, alone. */
export function leaseSource(kube: Kube, namespace: string, name: string): WatchSource<V1Lease> {
  const fieldSelector = `metadata.name=${name}`;
  return {
    path: `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`,
    fieldSelector,
    list: () => kube.coordination.listNamespacedLease({ namespace, fieldSelector }),
  };
}

/** A Kubernetes timestamp as epoch milliseconds: typed reads give Dates, watch events give strings. */
export function timeOf(value: Date | string | undefined | null): number | undefined {
  if (value === undefined || value === null) return undefined;
  const ms = value instanceof Date ? value.getTime() : Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}
