// Small helpers over @kubernetes/client-node shared by the orchestrator and
// the test library.
import { type KubeConfig, Watch } from '@kubernetes/client-node';

/** The HTTP status of a client-node ApiException, if it is one. */
export function apiStatus(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** Runs `create`; a 409 AlreadyExists counts as success. */
export async function createIfMissing(create: () => Promise<unknown>): Promise<void> {
  try {
    await create();
  } catch (error) {
    if (apiStatus(error) !== 409) throw error;
  }
}

export interface WatchTarget {
  /** Collection path, e.g. /api/v1/nodes or /api/v1/namespaces/ns/pods. */
  path: string;
  labelSelector?: string;
  fieldSelector?: string;
}

// biome-ignore lint/suspicious/noExplicitAny: objects come from the API as JSON
export type KubeObject = any;

/**
 * Watches a collection until `done(objects)` returns a value other than
 * undefined, and resolves with that value. `objects` holds the current objects
 * by namespace/name. A watch without a resourceVersion first reports every
 * existing object as ADDED, so the current state is seen before any change.
 * Restarts the watch if the server closes it; rejects after `timeoutMs` with
 * `describe(objects)` in the message.
 */
export async function watchUntil<T>(
  kc: KubeConfig,
  target: WatchTarget,
  done: (objects: Map<string, KubeObject>) => T | undefined,
  options: { timeoutMs: number; what: string; describe?: (objects: Map<string, KubeObject>) => string },
): Promise<T> {
  const watch = new Watch(kc);
  const objects = new Map<string, KubeObject>();
  return new Promise<T>((resolve, reject) => {
    let controller: AbortController | undefined;
    let finished = false;
    let lastError: unknown;
    const finish = (error: Error | undefined, value?: T) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      controller?.abort();
      if (error) reject(error);
      else resolve(value as T);
    };
    const timer = setTimeout(() => {
      const detail = options.describe ? `: ${options.describe(objects)}` : '';
      const last = lastError
        ? ` (last watch error: ${(lastError as Error).message ?? String(lastError)})`
        : '';
      finish(
        new Error(`timed out after ${options.timeoutMs} ms waiting for ${options.what}${detail}${last}`),
      );
    }, options.timeoutMs);
    const check = () => {
      try {
        const value = done(objects);
        if (value !== undefined) finish(undefined, value);
      } catch (error) {
        finish(error as Error);
      }
    };
    const start = () => {
      if (finished) return;
      objects.clear();
      const query: Record<string, string | boolean> = { allowWatchBookmarks: false };
      if (target.labelSelector) query.labelSelector = target.labelSelector;
      if (target.fieldSelector) query.fieldSelector = target.fieldSelector;
      watch
        .watch(
          target.path,
          query,
          (phase, object: KubeObject) => {
            const key = `${object?.metadata?.namespace ?? ''}/${object?.metadata?.name ?? ''}`;
            if (phase === 'DELETED') objects.delete(key);
            else if (phase === 'ADDED' || phase === 'MODIFIED') objects.set(key, object);
            check();
          },
          (error: unknown) => {
            if (finished) return;
            // The server ends watches after a while; start again. An error is kept for the timeout message.
            if (error) lastError = error;
            setTimeout(start, error ? 200 : 0);
          },
        )
        .then(
          (c) => {
            controller = c;
            if (finished) c.abort();
            else check();
          },
          (error: unknown) => {
            if (finished) return;
            const status = apiStatus(error);
            if (status === 401 || status === 403 || status === 404) {
              finish(
                new Error(`cannot watch ${target.path} for ${options.what}: ${(error as Error).message}`),
              );
              return;
            }
            lastError = error;
            setTimeout(start, 500);
          },
        );
    };
    start();
  });
}
