import { STATUS_CODES } from 'node:http';
import {
  type KubernetesListObject,
  type KubernetesObject,
  ListWatch,
  type RequestContext,
  type V1Deployment,
  type V1EndpointSlice,
  type V1Lease,
  type V1Pod,
  type V1ReplicaSet,
  Watch,
} from '@kubernetes/client-node';
import { GreenlightError } from '../runtime/errors.ts';
import { DelegatingKubeConfig, type Kube } from './client.ts';
import { kubeError, type MissingPermission, statusCode } from './errors.ts';

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
  /**
   * The error to fail with at the deadline, given what was last seen (or nothing when no list succeeded yet).
   * `refused` is set when some list or watch was still being refused at the deadline: which collections, how
   * often and with what status, as a sentence to put into the error. A GreenlightError that leaves it out gets
   * it appended to its reason.
   */
  onTimeout: (refused?: string) => Error;
  /** What is being waited for, for errors about the watch itself. */
  what: string;
}

/**
 * Lists and watches one or more collections (client-node's ListWatch: list, then watch from that
 * resourceVersion, re-list on 410 Gone) and calls `evaluate` with the current objects after every change,
 * until it returns a value (success), throws (fail fast: a crash loop, a pull failure), the deadline passes, or
 * the signal aborts. A refused list or watch (401, 403, 404) fails at once, a 403 with the missing permission
 * named; other failures are retried every second, counted, and named in the timeout error when they lasted
 * until the deadline. When the wait ends, all its watch connections are closed, also those the server has not
 * answered yet.
 */
export function watchUntil<const S extends readonly WatchSource<KubernetesObject>[], R>(
  kube: Kube,
  sources: S,
  evaluate: (views: Views<S>) => R | undefined,
  options: WatchUntilOptions,
): Promise<R> {
  const connections = new WatchConnections(kube.config);
  const watch = new Watch(connections);
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
  const refusals = sources.map((): Refusals => ({ count: 0, last: '', failing: false }));
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
      connections.close(`the wait for ${options.what} ended`);
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
          finish(timeoutError(options, refusalSummary(sources, refusals)));
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
      const refused = refusals[index] as Refusals;
      const before = refused.count;
      // start() also resolves when its list or watch failed: it reported an error, and a retry is due. What a
      // list returned is evaluated even while the watch is refused (the deadline still applies); a failed list
      // leaves nothing to evaluate.
      informer.start().then(
        () => {
          const clean = refused.count === before;
          if (clean) refused.failing = false;
          if (!clean && informer.latestResourceVersion() === '') return;
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
        // A refused list is an ApiException whose Status names a missing permission; a refused watch comes
        // without its Status, so the permission it needs is read from its path.
        const verb = typeof (error as { code?: unknown }).code === 'number' ? 'list' : 'watch';
        const permission = collectionOf(source.path);
        finish(
          kubeError(error, {
            what: `watch ${source.path} (${options.what})`,
            server: kube.server,
            permission: permission && { verb, ...permission },
          }),
        );
        return;
      }
      const refused = refusals[index] as Refusals;
      refused.count += 1;
      refused.last = refusalReason(error);
      refused.failing = true;
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

/** The undici dispatcher client-node makes for a request when the kubeconfig has TLS settings. */
type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

/**
 * The kubeconfig a wait's Watch uses: `base` authenticates each watch request, and the dispatcher client-node
 * creates for it is kept, so that `close` can end every watch of the wait, also one whose request the server
 * has not answered yet. ListWatch.stop() cannot end those: client-node's Watch.watch hands out its
 * AbortController only once the server has answered, so without this a held watch kept the process alive
 * until client-node's 30 s timeout. A watch started after `close` (a ListWatch that was listing when it was
 * stopped still goes on to watch) is ended at once.
 *
 * Limitation: with a kubeconfig without any TLS settings (no certificate authority, client certificate or
 * insecure-skip-tls-verify; e.g. a public CA and a bearer token), client-node uses the global dispatcher and
 * there is nothing to close; such a watch ends when the server answers or after client-node's 30 s timeout.
 */
class WatchConnections extends DelegatingKubeConfig {
  private readonly dispatchers = new Set<Dispatcher>();
  private closedBecause: Error | undefined;

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const dispatcher = context.getDispatcher();
    if (!dispatcher) return;
    if (this.closedBecause) dispatcher.destroy(this.closedBecause, () => undefined);
    else this.dispatchers.add(dispatcher);
  }

  /** Ends every watch connection of the wait, answered or not, and any started from now on. */
  close(reason: string): void {
    this.closedBecause ??= new Error(reason);
    for (const dispatcher of this.dispatchers) dispatcher.destroy(this.closedBecause, () => undefined);
    this.dispatchers.clear();
  }
}

/** How often one collection's list or watch failed, how the last attempt failed, and whether it still fails. */
interface Refusals {
  count: number;
  last: string;
  failing: boolean;
}

/** A failed list or watch in a few words: `503 Service Unavailable`, `ECONNRESET`. */
function refusalReason(error: unknown): string {
  const status = statusCode(error);
  if (status !== undefined) return `${status} ${STATUS_CODES[status] ?? ''}`.trim();
  const cause = (error as { cause?: { code?: unknown } }).cause;
  const code = (error as { code?: unknown }).code ?? cause?.code;
  if (typeof code === 'string') return code;
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] ?? text;
}

/**
 * The resource, API group and namespace of a collection path: `/apis/apps/v1/namespaces/shop/deployments` is
 * deployments in group apps in namespace shop, `/api/v1/pods` is pods in the core group ("") cluster-wide.
 */
export function collectionOf(path: string): Omit<MissingPermission, 'user' | 'verb'> | undefined {
  const match = /^\/(?:api\/[^/]+|apis\/([^/]+)\/[^/]+)\/(?:namespaces\/([^/]+)\/)?([^/?]+)$/.exec(path);
  if (!match) return undefined;
  const [, group, namespace, resource] = match;
  return { resource: resource as string, group: group ?? '', namespace };
}

/** `pods in namespace shop (app=api)` for a collection path and its selectors. */
function describeSource(source: WatchSource<KubernetesObject>): string {
  const match = /\/namespaces\/([^/]+)\/([^/]+)$/.exec(source.path);
  const where = match ? `${match[2]} in namespace ${match[1]}` : source.path;
  const selectors = [source.labelSelector, source.fieldSelector].filter(Boolean).join(', ');
  return selectors ? `${where} (${selectors})` : where;
}

/** The collections whose list or watch was still refused, how often and how, or undefined when none was. */
function refusalSummary(
  sources: readonly WatchSource<KubernetesObject>[],
  refusals: readonly Refusals[],
): string | undefined {
  const failing = sources.flatMap((source, index) => {
    const refused = refusals[index] as Refusals;
    if (!refused.failing) return [];
    const times = refused.count === 1 ? 'once' : `${refused.count} times`;
    return [`${describeSource(source)} ${times} (last: ${refused.last})`];
  });
  if (failing.length === 0) return undefined;
  return `the API server refused to list or watch ${failing.join('; ')}`;
}

/** The caller's timeout error; a GreenlightError that does not mention the refusals gets them appended. */
function timeoutError(options: WatchUntilOptions, refused: string | undefined): Error {
  const error = options.onTimeout(refused);
  if (!refused || !(error instanceof GreenlightError) || error.message.includes(refused)) return error;
  return new GreenlightError({
    what: error.what,
    reason: `${error.reason}; ${refused}`,
    hint: error.hint,
    object: error.object,
    file: error.file,
    line: error.line,
    cause: error.cause,
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
