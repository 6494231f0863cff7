import type { V1ConfigMap } from '@kubernetes/client-node';
import type { Kube } from '../kube/client.ts';
import { isConflict, isNotFound, kubeError } from '../kube/errors.ts';
import { withRetry } from '../kube/retry.ts';
import { GreenlightError } from '../runtime/errors.ts';
import {
  decodeRecord,
  emptyRecord,
  encodeRecord,
  RecordFormatError,
  type ReleaseRecord,
  recordLabels,
  recordName,
} from './record.ts';

/** Which record: an app in an environment, kept in the app's namespace. */
export interface RecordKey {
  namespace: string;
  app: string;
  environment: string;
}

/** A record as read, with the resourceVersion a write must match (undefined when it does not exist yet). */
export interface StoredRecord {
  record: ReleaseRecord;
  resourceVersion: string | undefined;
}

function refOf(key: RecordKey) {
  return { kind: 'ConfigMap', name: recordName(key.app, key.environment), namespace: key.namespace };
}

/** Reads the release record; an absent one reads as empty (resourceVersion undefined). */
export async function readRecord(kube: Kube, key: RecordKey, signal?: AbortSignal): Promise<StoredRecord> {
  const ref = refOf(key);
  let configMap: V1ConfigMap | undefined;
  try {
    configMap = await withRetry(
      async () => {
        try {
          return await kube.core.readNamespacedConfigMap({ name: ref.name, namespace: key.namespace });
        } catch (error) {
          if (isNotFound(error)) return undefined;
          throw error;
        }
      },
      { signal },
    );
  } catch (error) {
    throw kubeError(error, { what: 'read the release record', object: ref, server: kube.server });
  }
  if (!configMap)
    return { record: emptyRecord(key.app, key.environment, key.namespace), resourceVersion: undefined };
  try {
    return { record: decodeRecord(configMap.data), resourceVersion: configMap.metadata?.resourceVersion };
  } catch (error) {
    if (!(error instanceof RecordFormatError)) throw error;
    throw new GreenlightError({
      what: 'read the release record',
      object: ref,
      reason: `it cannot be read: ${error.message}`,
      hint: 'the record was edited by hand or by a newer Greenlight; restore it, or delete it to start a fresh history',
    });
  }
}

/**
 * Writes the record: creates it when `resourceVersion` is undefined, else replaces it only if it still has that
 * resourceVersion. Returns the new resourceVersion. A concurrent write surfaces as a 409 conflict (see
 * `updateRecord` for the read-modify-write loop).
 */
export async function writeRecord(
  kube: Kube,
  record: ReleaseRecord,
  resourceVersion: string | undefined,
): Promise<string | undefined> {
  const name = recordName(record.app, record.environment);
  const body: V1ConfigMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name,
      namespace: record.namespace,
      labels: recordLabels(record.app, record.environment),
      resourceVersion,
    },
    data: encodeRecord(record),
  };
  const written =
    resourceVersion === undefined
      ? await kube.core.createNamespacedConfigMap({
          namespace: record.namespace,
          body,
          fieldManager: 'greenlight',
        })
      : await kube.core.replaceNamespacedConfigMap({
          name,
          namespace: record.namespace,
          body,
          fieldManager: 'greenlight',
        });
  return written.metadata?.resourceVersion;
}

/**
 * Reads the record, applies `change` and writes it back with a resourceVersion precondition, starting again
 * from a fresh read when someone else wrote in between. `change` must be a pure function of the record it is
 * given. Returns the record as written.
 */
export async function updateRecord(
  kube: Kube,
  key: RecordKey,
  change: (record: ReleaseRecord) => ReleaseRecord,
  signal?: AbortSignal,
): Promise<ReleaseRecord> {
  const ref = refOf(key);
  for (let attempt = 1; ; attempt++) {
    const { record, resourceVersion } = await readRecord(kube, key, signal);
    const next = change(record);
    try {
      await withRetry(() => writeRecord(kube, next, resourceVersion), { signal });
      return next;
    } catch (error) {
      // 409: a concurrent writer (or a create racing a create); read again and re-apply the change.
      if (isConflict(error) && attempt < 10) continue;
      throw kubeError(error, { what: 'write the release record', object: ref, server: kube.server });
    }
  }
}
