import { NetworkingV1Api, type V1Ingress, type V1IngressBackend } from '@kubernetes/client-node';
import { isNotFound, kubeError, statusCode } from '../kube/errors.ts';
import { withRetry } from '../kube/retry.ts';
import {
  type Color,
  describeSettlement,
  type PendingSwitch,
  type ReleaseRecord,
  type SwitchSettlement,
  settleSwitch,
  withoutSwitch,
  withSwitch,
} from '../release/record.ts';
import { type RecordKey, readRecord, updateRecord } from '../release/store.ts';
import { describeError, GreenlightError } from '../runtime/errors.ts';
import { APP_LABEL, activeServiceName, COLOR_LABEL, colorServiceName, type SwitchContext } from './switch.ts';

/** How long a write that settles a switch may take once the run was cancelled. */
export const SETTLE_AFTER_CANCEL_MS = 5_000;

/**
 * Where traffic goes now. `service`: the colour the active Service `<app>` selects (undefined when it does not
 * exist or selects no colour). `ingress`: the colour every Ingress backend naming a colour Service of the app
 * points at (undefined when none does, or when they point at both).
 */
export async function trafficColor(
  context: SwitchContext,
  app: string,
  route: 'service' | 'ingress',
): Promise<Color | undefined> {
  const { kube, namespace } = context;
  if (route === 'ingress') {
    const list = await withRetry(
      () => kube.config.makeApiClient(NetworkingV1Api).listNamespacedIngress({ namespace }),
      { signal: context.signal },
    ).catch((error: unknown) => {
      throw kubeError(error, { what: 'read where traffic goes (Ingresses)', server: kube.server });
    });
    const colors = ingressColors(list.items, app);
    return colors.size === 1 ? [...colors][0] : undefined;
  }
  const name = activeServiceName(app);
  try {
    const service = await withRetry(() => kube.core.readNamespacedService({ name, namespace }), {
      signal: context.signal,
    });
    const selector = service.spec?.selector ?? {};
    const color = selector[APP_LABEL] === app ? selector[COLOR_LABEL] : undefined;
    return color === 'blue' || color === 'green' ? color : undefined;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw kubeError(error, {
      what: 'read where traffic goes',
      object: { kind: 'Service', name, namespace },
      server: kube.server,
    });
  }
}

/**
 * The Ingresses of the namespace that route to a colour Service of the app, each with the colours it names. When
 * the identity may not list Ingresses it says so and returns none: the caller then goes by the active Service.
 */
export async function colorRoutingIngresses(
  context: SwitchContext,
  app: string,
): Promise<{ name: string; colors: Set<Color> }[]> {
  const { kube, namespace } = context;
  let ingresses: V1Ingress[];
  try {
    const networking = kube.config.makeApiClient(NetworkingV1Api);
    ingresses = (
      await withRetry(() => networking.listNamespacedIngress({ namespace }), { signal: context.signal })
    ).items;
  } catch (error) {
    if (statusCode(error) === 403) {
      context.host.warning(
        `cannot list Ingresses in ${namespace} (forbidden), so where traffic goes is read from Service ${activeServiceName(app)} alone; grant "list" on "ingresses" (rbac/deployer-role.yaml) when traffic enters through an Ingress`,
      );
      return [];
    }
    throw kubeError(error, {
      what: 'read where traffic goes',
      object: { kind: 'Ingress', name: '(list)', namespace },
      server: kube.server,
    });
  }
  return ingresses
    .map((ingress) => ({ name: ingress.metadata?.name ?? '?', colors: ingressColors([ingress], app) }))
    .filter((entry) => entry.colors.size > 0);
}

/**
 * The colour the app's Ingresses route to through its colour Services (`route: ingress`), or undefined when no
 * Ingress names one. Ingresses that route to both colours are refused: there is no idle colour and no single
 * live one.
 */
export async function ingressRoutedColor(context: SwitchContext, app: string): Promise<Color | undefined> {
  const routing = await colorRoutingIngresses(context, app);
  const colors = new Set(routing.flatMap((entry) => [...entry.colors]));
  if (colors.size > 1) {
    throw new GreenlightError({
      what: 'read where traffic goes',
      object: {
        kind: 'Ingress',
        name: routing.map((entry) => entry.name).join(', '),
        namespace: context.namespace,
      },
      reason: `Ingresses route to both ${colorServiceName(app, 'blue')} and ${colorServiceName(app, 'green')}, so no colour is idle to deploy on`,
      hint: 'point every Ingress backend at the colour that serves (promote with route: ingress moves them together), then run again',
    });
  }
  return [...colors][0];
}

/**
 * Refuses a switch by `route: service` when Ingresses route to the app's colour Services: the selector patch
 * would not move their traffic, and retiring the previous colour afterwards would cut it off.
 */
export async function assertServiceRoute(context: SwitchContext, app: string): Promise<void> {
  const routing = await colorRoutingIngresses(context, app);
  if (routing.length === 0) return;
  const [first] = routing;
  throw new GreenlightError({
    what: 'switch traffic with route: service',
    object: {
      kind: 'Ingress',
      name: routing.map((entry) => entry.name).join(', '),
      namespace: context.namespace,
    },
    reason: `Ingress ${first?.name} routes to ${[...(first?.colors ?? [])].map((c) => colorServiceName(app, c)).join(' and ')}, a colour Service: switching the active Service would not move that traffic, and retiring the previous colour would cut it off`,
    hint: 'use route: ingress for this app (it moves the Ingress backends), or point the Ingress at the active Service',
  });
}

/** The colours that the Ingresses' backends name through the app's colour Services. */
export function ingressColors(ingresses: readonly V1Ingress[], app: string): Set<Color> {
  const byService = new Map<string, Color>([
    [colorServiceName(app, 'blue'), 'blue'],
    [colorServiceName(app, 'green'), 'green'],
  ]);
  const colors = new Set<Color>();
  const add = (backend: V1IngressBackend | undefined) => {
    const color = byService.get(backend?.service?.name ?? '');
    if (color) colors.add(color);
  };
  for (const ingress of ingresses) {
    add(ingress.spec?.defaultBackend);
    for (const rule of ingress.spec?.rules ?? [])
      for (const path of rule.http?.paths ?? []) add(path.backend);
  }
  return colors;
}

/** A release record read under the lock, with the note an earlier run left settled. */
export interface SettledRecord {
  record: ReleaseRecord;
  settlement: SwitchSettlement;
}

/**
 * Reads the release record; when an earlier run left a switch note, reads where traffic goes and settles it
 * (completed or dropped, see `settleSwitch`) in one conditional write, and says so in the log. Call it under the
 * app's lock.
 */
export async function readSettledRecord(context: SwitchContext, key: RecordKey): Promise<SettledRecord> {
  const { record } = await readRecord(context.kube, key, context.signal);
  if (!record.switching) return { record, settlement: { kind: 'none' } };
  return settleNote(context, key, record.switching);
}

async function settleNote(
  context: SwitchContext,
  key: RecordKey,
  note: PendingSwitch,
): Promise<SettledRecord> {
  const serving = await trafficColor(context, key.app, note.route);
  let settlement: SwitchSettlement = { kind: 'none' };
  const record = await updateRecord(
    context.kube,
    key,
    (current) => {
      const settled = settleSwitch(current, serving);
      settlement = settled.settlement;
      return settled.record;
    },
    context.signal,
  );
  if (settlement.kind !== 'none') context.host.info(`Release record: ${describeSettlement(settlement)}.`);
  return { record, settlement };
}

/** Writes the note that traffic is about to move. When this write fails, nothing moves. */
export async function noteSwitch(
  context: SwitchContext,
  key: RecordKey,
  note: Omit<PendingSwitch, 'startedAt'>,
): Promise<void> {
  await updateRecord(
    context.kube,
    key,
    (record) => withSwitch(record, { ...note, startedAt: new Date().toISOString() }),
    context.signal,
  );
}

/**
 * Records a switch's outcome: `change` applied to the record, and the note removed, in one write. When the run
 * was cancelled before or during the write, it is tried once more with a short deadline of its own, so a
 * verified switch is not left unrecorded by a cancel that came a moment too late.
 */
export async function recordSwitchOutcome(
  context: SwitchContext,
  key: RecordKey,
  change: (record: ReleaseRecord) => ReleaseRecord,
): Promise<ReleaseRecord> {
  const write = (signal: AbortSignal | undefined) =>
    updateRecord(context.kube, key, (record) => withoutSwitch(change(record)), signal);
  try {
    return await write(context.signal);
  } catch (error) {
    if (!context.signal?.aborted) throw error;
    return write(AbortSignal.timeout(SETTLE_AFTER_CANCEL_MS));
  }
}

/**
 * After a failed or cancelled switch: settles the run's own note from where traffic ended up, with a short
 * deadline of its own. Never throws: when it cannot, the note stays for the next run to settle, and it says so.
 */
export async function settleAfterFailure(context: SwitchContext, key: RecordKey): Promise<void> {
  const own = { ...context, signal: AbortSignal.timeout(SETTLE_AFTER_CANCEL_MS) };
  try {
    const { record } = await readRecord(own.kube, key, own.signal);
    if (record.switching) await settleNote(own, key, record.switching);
  } catch (error) {
    context.host.warning(
      `the release record still notes a switch in progress (${describeError(error)}); the next deploy, promote, rollback or abort settles it from where traffic goes`,
    );
  }
}
