import { type KubernetesObject, PatchStrategy } from '@kubernetes/client-node';
import { GreenlightError, type ObjectRef } from '../runtime/errors.ts';
import type { Kube } from './client.ts';
import { isNotFound, kubeError } from './errors.ts';
import { withRetry } from './retry.ts';

/** The field manager every Greenlight write uses, so server-side apply knows which fields are ours. */
export const FIELD_MANAGER = 'greenlight';

/** What applying one object did. */
export interface ApplyResult {
  ref: ObjectRef;
  /** created, changed, or unchanged (the server kept the same resourceVersion). */
  outcome: 'created' | 'configured' | 'unchanged';
  object: KubernetesObject;
}

/** `Kind namespace/name` of an object, as an ObjectRef. */
export function refOf(object: KubernetesObject): ObjectRef {
  return {
    kind: object.kind ?? 'object',
    name: object.metadata?.name ?? '(unnamed)',
    namespace: object.metadata?.namespace,
  };
}

/**
 * Applies `object` with server-side apply under the `greenlight` field manager (forcing ownership of the fields it
 * sets) and says whether anything changed. A re-apply of the same object leaves the resourceVersion as it was.
 * Retries transient failures: an apply is idempotent.
 */
export async function applyObject(
  kube: Kube,
  object: KubernetesObject,
  options: { signal?: AbortSignal; source?: string } = {},
): Promise<ApplyResult> {
  const ref = refOf(object);
  const header = {
    apiVersion: object.apiVersion as string,
    kind: object.kind as string,
    metadata: { name: object.metadata?.name as string, namespace: object.metadata?.namespace },
  };
  try {
    const before = await withRetry(
      async () => {
        try {
          return await kube.objects.read(header);
        } catch (error) {
          if (isNotFound(error)) return undefined;
          throw error;
        }
      },
      { signal: options.signal },
    );
    const body = withoutEmptyMaps(structuredClone(object));
    if (body.metadata) delete body.metadata.resourceVersion;
    const after = await withRetry(
      () =>
        kube.objects.patch(body, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply),
      { signal: options.signal },
    );
    const outcome = !before
      ? 'created'
      : before.metadata?.resourceVersion === after.metadata?.resourceVersion
        ? 'unchanged'
        : 'configured';
    return { ref, outcome, object: after };
  } catch (error) {
    const what = options.source ? `apply (rendered from ${options.source})` : 'apply';
    const failure = kubeError(error, { what, object: ref, server: kube.server });
    const place = options.source ? parseSource(options.source) : undefined;
    if (!place) throw failure;
    // Point the annotation at the template or manifest line the object comes from.
    throw new GreenlightError({
      what: failure.what,
      object: failure.object,
      reason: failure.reason,
      hint: failure.hint,
      file: place.file,
      line: place.line,
      cause: error,
    });
  }
}

/**
 * Drops empty `labels` and `annotations` maps: the server does not store them, so applying them again would
 * count as a change on every run.
 */
function withoutEmptyMaps<T>(value: T): T {
  if (Array.isArray(value)) {
    for (const item of value) withoutEmptyMaps(item);
  } else if (value && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    for (const [key, child] of Object.entries(record)) {
      const empty =
        child && typeof child === 'object' && !Array.isArray(child) && Object.keys(child).length === 0;
      if ((key === 'labels' || key === 'annotations') && empty) delete record[key];
      else withoutEmptyMaps(child);
    }
  }
  return value;
}

/** Reads `templates/deployment.yaml:12` (or a bare path) into a file and line. */
export function parseSource(source: string): { file: string; line?: number } | undefined {
  const match = /^(.*?)(?::(\d+))?$/.exec(source.trim());
  if (!match?.[1]) return undefined;
  return { file: match[1], line: match[2] ? Number(match[2]) : undefined };
}
