import {
  NetworkingV1Api,
  PatchStrategy,
  setHeaderOptions,
  type V1EndpointSlice,
  type V1Ingress,
  type V1Pod,
  type V1Service,
} from '@kubernetes/client-node';
import type { Kube } from '../kube/client.ts';
import { isConflict, isTransient, kubeError } from '../kube/errors.ts';
import { withRetry } from '../kube/retry.ts';
import { endpointSliceSource, podSource, watchUntil } from '../kube/watch.ts';
import { type Color, otherColor } from '../release/record.ts';
import { describeError, GreenlightError } from '../runtime/errors.ts';
import { type Host, Progress } from '../runtime/host.ts';

/** The pod label naming the app, on every pod Greenlight deploys. */
export const APP_LABEL = 'greenlight.dev/app';
/** The pod label naming the colour; the active Service selects on it. */
export const COLOR_LABEL = 'greenlight.dev/color';
/** Annotation on a Service that selects the app but must never be switched (`"false"`). */
export const SWITCH_ANNOTATION = 'greenlight.dev/switch';

/** True when `value` names a colour. */
export function isColor(value: string | undefined): value is Color {
  return value === 'blue' || value === 'green';
}

/** The Service that carries live traffic: `<app>`. */
export function activeServiceName(app: string): string {
  return app;
}

/** The Service that always selects the candidate: `<app>-preview`. */
export function previewServiceName(app: string): string {
  return `${app}-preview`;
}

/** The Service pinned to one colour (used as an Ingress backend with `route: ingress`): `<app>-<color>`. */
export function colorServiceName(app: string, color: Color): string {
  return `${app}-${color}`;
}

/** One Service whose selector changes, and the precondition the patch carries. */
export interface ServiceSwitch {
  name: string;
  /** The resourceVersion the plan was made from; the patch fails with a conflict when it moved. */
  resourceVersion: string;
  /** The colour it selected before (undefined when it selected both). */
  fromColor: Color | undefined;
  from: Record<string, string>;
  to: Record<string, string>;
  /** `active` for `<app>`, which is switched first and waited on; `additional` for the others. */
  role: 'active' | 'additional';
}

/** One Ingress whose backends move from one colour Service to the other. */
export interface IngressSwitch {
  name: string;
  resourceVersion: string;
  /** The backends that change, as `rule host/path` descriptions for the log. */
  backends: string[];
  /** The whole Ingress with the backends changed, for a replace that carries the resourceVersion. */
  to: V1Ingress;
}

/** What a switch to `target` changes; empty lists when nothing changes. */
export interface SwitchPlan {
  app: string;
  target: Color;
  /** The colour the active Service selected before the switch. */
  activeBefore: Color | undefined;
  /** Selector changes, the active Service first. */
  services: ServiceSwitch[];
  /** Ingress backend changes (`route: ingress`). */
  ingresses: IngressSwitch[];
  /** Objects that already point at the target. */
  unchanged: string[];
  /** Objects that select the app but are left alone, and why. */
  leftAlone: { name: string; reason: string }[];
}

/** True when the plan changes nothing: the switch is skipped. */
export function isNoop(plan: SwitchPlan): boolean {
  return plan.services.length === 0 && plan.ingresses.length === 0;
}

export interface SwitchInput {
  app: string;
  namespace: string;
  target: Color;
  /** Every Service of the namespace (the planner picks those that select the app). */
  services: readonly V1Service[];
  /** `service` switches Service selectors; `ingress` switches Ingress backends between colour Services. */
  route: 'service' | 'ingress';
  /** Every Ingress of the namespace, for `route: ingress`. */
  ingresses?: readonly V1Ingress[];
}

/**
 * Plans a traffic switch to `target`, without touching the cluster. With `route: service` every Service that
 * selects the app (`greenlight.dev/app=<app>`) gets `greenlight.dev/color=<target>`, the active Service `<app>`
 * first; the preview Service, the per-colour Services and those annotated `greenlight.dev/switch: "false"` are
 * left alone. With `route: ingress` every Ingress backend naming `<app>-<other>` is moved to `<app>-<target>`.
 * Objects already at the target are listed as unchanged; a plan with nothing to change is a no-op.
 */
export function planSwitch(input: SwitchInput): SwitchPlan {
  const { app, namespace, target } = input;
  const activeName = activeServiceName(app);
  if (input.route === 'ingress') {
    // Traffic enters through Ingress backends on the colour Services; the active Service is not involved.
    const plan: SwitchPlan = {
      app,
      target,
      activeBefore: undefined,
      services: [],
      ingresses: [],
      unchanged: [],
      leftAlone: [],
    };
    planIngresses(plan, input.ingresses ?? [], namespace);
    plan.activeBefore = plan.ingresses.length > 0 ? otherColor(target) : target;
    return plan;
  }
  const active = input.services.find((s) => s.metadata?.name === activeName);
  if (!active) {
    throw new GreenlightError({
      what: 'plan the traffic switch',
      object: { kind: 'Service', name: activeName, namespace },
      reason: 'the active Service does not exist',
      hint: `run deploy-bluegreen for ${app} first; it creates the Service ${activeName}`,
    });
  }
  const activeSelector = active.spec?.selector ?? {};
  if (activeSelector[APP_LABEL] !== app) {
    throw new GreenlightError({
      what: 'plan the traffic switch',
      object: { kind: 'Service', name: activeName, namespace },
      reason: `its selector ${formatSelector(activeSelector)} does not select ${APP_LABEL}=${app}`,
      hint: 'this Service is not managed by Greenlight; rename it or let deploy-bluegreen own it',
    });
  }
  const before = activeSelector[COLOR_LABEL];
  const plan: SwitchPlan = {
    app,
    target,
    activeBefore: isColor(before) ? before : undefined,
    services: [],
    ingresses: [],
    unchanged: [],
    leftAlone: [],
  };

  const fixed = new Set([
    previewServiceName(app),
    colorServiceName(app, 'blue'),
    colorServiceName(app, 'green'),
  ]);
  const selecting = input.services
    .filter((s) => s.spec?.selector?.[APP_LABEL] === app)
    .sort((a, b) => rank(a, activeName) - rank(b, activeName) || nameOf(a).localeCompare(nameOf(b)));
  for (const service of selecting) {
    const name = nameOf(service);
    const selector = service.spec?.selector ?? {};
    const current = selector[COLOR_LABEL];
    if (name !== activeName) {
      if (fixed.has(name)) {
        plan.leftAlone.push({ name, reason: 'pinned to one colour by design (preview or colour Service)' });
        continue;
      }
      if (service.metadata?.annotations?.[SWITCH_ANNOTATION] === 'false') {
        plan.leftAlone.push({ name, reason: `annotated ${SWITCH_ANNOTATION}: "false"` });
        continue;
      }
    }
    if (current !== undefined && !isColor(current)) {
      plan.leftAlone.push({ name, reason: `selects ${COLOR_LABEL}=${current}, which is not a colour` });
      continue;
    }
    if (current === target) {
      plan.unchanged.push(name);
      continue;
    }
    plan.services.push({
      name,
      resourceVersion: service.metadata?.resourceVersion ?? '',
      fromColor: current,
      from: { ...selector },
      to: { ...selector, [COLOR_LABEL]: target },
      role: name === activeName ? 'active' : 'additional',
    });
  }
  return plan;
}

function planIngresses(plan: SwitchPlan, ingresses: readonly V1Ingress[], namespace: string): void {
  const from = colorServiceName(plan.app, otherColor(plan.target));
  const to = colorServiceName(plan.app, plan.target);
  let routed = false;
  for (const ingress of [...ingresses].sort((a, b) => nameOf(a).localeCompare(nameOf(b)))) {
    const copy = structuredClone(ingress) as V1Ingress;
    const moved: string[] = [];
    let pointsAtTarget = false;
    const visit = (backend: { service?: { name: string } } | undefined, where: string) => {
      if (backend?.service?.name === from) {
        backend.service.name = to;
        moved.push(where);
      } else if (backend?.service?.name === to) {
        pointsAtTarget = true;
      }
    };
    visit(copy.spec?.defaultBackend, 'default backend');
    for (const rule of copy.spec?.rules ?? []) {
      for (const path of rule.http?.paths ?? [])
        visit(path.backend, `${rule.host ?? '*'}${path.path ?? '/'}`);
    }
    if (moved.length > 0) {
      routed = true;
      plan.ingresses.push({
        name: nameOf(ingress),
        resourceVersion: ingress.metadata?.resourceVersion ?? '',
        backends: moved,
        to: copy,
      });
    } else if (pointsAtTarget) {
      routed = true;
      plan.unchanged.push(nameOf(ingress));
    }
  }
  if (!routed) {
    throw new GreenlightError({
      what: 'plan the traffic switch',
      object: { kind: 'Ingress', name: `(any routing to ${from} or ${to})`, namespace },
      reason: `route is ingress, but no Ingress in the namespace has a backend on ${from} or ${to}`,
      hint: `point an Ingress backend at the Service ${to} or ${from}, or use route: service`,
    });
  }
}

function rank(service: V1Service, activeName: string): number {
  return nameOf(service) === activeName ? 0 : 1;
}

function nameOf(object: { metadata?: { name?: string } }): string {
  return object.metadata?.name ?? '';
}

/** Formats a selector as `k=v,k=v` for messages. */
export function formatSelector(selector: Record<string, string>): string {
  const text = Object.entries(selector)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return text === '' ? '(empty)' : text;
}

/** The merge patch that sets a Service's selector, with its resourceVersion as a precondition (409 when stale). */
export function selectorPatch(change: Pick<ServiceSwitch, 'resourceVersion' | 'to'>): {
  metadata: { resourceVersion: string };
  spec: { selector: Record<string, string> };
} {
  return { metadata: { resourceVersion: change.resourceVersion }, spec: { selector: change.to } };
}

/** The ready endpoints behind a Service, by colour, as its EndpointSlices list them at one instant. */
export interface EndpointCensus {
  ready: Record<Color, number>;
  /** Ready endpoints whose pod is not (or no longer) known to be of either colour. */
  readyUnknown: number;
  /** Endpoints that are listed but not ready (starting, terminating). */
  notReady: number;
}

/** Ready endpoints of any colour. */
export function readyTotal(census: EndpointCensus): number {
  return census.ready.blue + census.ready.green + census.readyUnknown;
}

/** True when every ready endpoint is of `color` and there is at least one. */
export function onlyColor(census: EndpointCensus, color: Color): boolean {
  return census.ready[color] > 0 && census.ready[otherColor(color)] === 0 && census.readyUnknown === 0;
}

/** Formats a census for logs: `green 3 ready, blue 0 ready, 1 not ready`. */
export function formatCensus(census: EndpointCensus): string {
  const parts = [`blue ${census.ready.blue} ready`, `green ${census.ready.green} ready`];
  if (census.readyUnknown > 0) parts.push(`${census.readyUnknown} ready of unknown colour`);
  if (census.notReady > 0) parts.push(`${census.notReady} not ready`);
  return parts.join(', ');
}

/**
 * Counts the ready endpoints of a Service's EndpointSlices by the colour of their pods. An endpoint listed in two
 * slices at once (the controller moves endpoints between slices) is counted once; a missing `ready` condition
 * counts as ready, as the EndpointSlice API says consumers must read it.
 */
export function endpointCensus(slices: readonly V1EndpointSlice[], pods: readonly V1Pod[]): EndpointCensus {
  const colorOf = new Map<string, string | undefined>();
  for (const pod of pods) colorOf.set(pod.metadata?.name ?? '', pod.metadata?.labels?.[COLOR_LABEL]);
  const census: EndpointCensus = { ready: { blue: 0, green: 0 }, readyUnknown: 0, notReady: 0 };
  const seen = new Set<string>();
  for (const slice of slices) {
    for (const endpoint of slice.endpoints ?? []) {
      const key =
        endpoint.targetRef?.kind === 'Pod' && endpoint.targetRef.name
          ? `pod/${endpoint.targetRef.name}`
          : `addr/${[...(endpoint.addresses ?? [])].sort().join(',')}`;
      if (seen.has(key)) continue;
      seen.add(key);
      if (endpoint.conditions?.ready === false) {
        census.notReady++;
        continue;
      }
      const color = endpoint.targetRef?.name ? colorOf.get(endpoint.targetRef.name) : undefined;
      if (isColor(color)) census.ready[color]++;
      else census.readyUnknown++;
    }
  }
  return census;
}

/** Where and how a switch runs. */
export interface SwitchContext {
  kube: Kube;
  namespace: string;
  host: Host;
  /** Epoch milliseconds by which the switch and the endpoint wait must be done. */
  deadline: number;
  signal?: AbortSignal;
}

/** The label selector of an app's pods, of one colour or of both. */
export function podSelector(app: string, color?: Color): string {
  return color ? `${APP_LABEL}=${app},${COLOR_LABEL}=${color}` : `${APP_LABEL}=${app}`;
}

/** True when a pod is Ready and not being deleted: its endpoint is one a proxy routes to. */
export function isServingPod(pod: V1Pod): boolean {
  if (pod.metadata?.deletionTimestamp) return false;
  return (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Counts the pods of `color` that are Ready now (the endpoints a Service selecting that colour would get). */
export async function countServingPods(context: SwitchContext, app: string, color: Color): Promise<number> {
  const { kube, namespace } = context;
  const pods = await withRetry(
    () => kube.core.listNamespacedPod({ namespace, labelSelector: podSelector(app, color) }),
    { signal: context.signal },
  ).catch((error: unknown) => {
    throw kubeError(error, { what: `list the ${color} pods of ${app}`, server: kube.server });
  });
  return pods.items.filter(isServingPod).length;
}

/**
 * Carries out a switch plan: patches each Service selector with its resourceVersion as a precondition (the
 * active Service first), or replaces each Ingress with its resourceVersion. It refuses when the target colour
 * has no ready pod. When a later patch fails, the ones already made are undone before the error is thrown, so
 * nothing is left half-switched. A no-op plan does nothing.
 */
export async function applySwitch(context: SwitchContext, plan: SwitchPlan): Promise<void> {
  const { kube, namespace, host } = context;
  if (isNoop(plan)) {
    host.info(`Traffic already goes to ${plan.target} (${plan.unchanged.join(', ')}): switch skipped.`);
    return;
  }
  const serving = await countServingPods(context, plan.app, plan.target);
  if (serving === 0) {
    throw new GreenlightError({
      what: 'switch traffic',
      object: { kind: 'Service', name: activeServiceName(plan.app), namespace },
      reason: `the ${plan.target} colour has zero ready pods, and traffic never moves to a Service with no ready endpoints`,
      hint: `check the ${plan.app}-${plan.target} Deployment's pods (kubectl describe) and re-run deploy-bluegreen`,
    });
  }
  const done: ServiceSwitch[] = [];
  const doneIngresses: IngressSwitch[] = [];
  try {
    for (const change of plan.services) {
      await patchSelector(context, change);
      done.push(change);
      host.info(
        `Service ${change.name}: selector ${formatSelector(change.from)} -> ${formatSelector(change.to)}`,
      );
    }
    const networking = plan.ingresses.length > 0 ? kube.config.makeApiClient(NetworkingV1Api) : undefined;
    for (const change of plan.ingresses) {
      await networking?.replaceNamespacedIngress({ name: change.name, namespace, body: change.to });
      doneIngresses.push(change);
      host.info(`Ingress ${change.name}: ${change.backends.join(', ')} -> ${plan.app}-${plan.target}`);
    }
  } catch (error) {
    const failed = plan.services[done.length] ?? plan.ingresses[doneIngresses.length];
    const kind = done.length < plan.services.length ? 'Service' : 'Ingress';
    await undoSwitch(context, plan, done, doneIngresses);
    const base = kubeError(error, {
      what: `switch traffic to ${plan.target}`,
      object: { kind, name: failed?.name ?? '?', namespace },
      server: kube.server,
    });
    if (isConflict(error)) {
      throw new GreenlightError({
        what: base.what,
        object: base.object,
        reason: `it changed since the switch was planned (resourceVersion ${failed?.resourceVersion} is stale)`,
        hint: 'another run or a person edited it at the same time; re-run the step once they are done',
        cause: error,
      });
    }
    throw base;
  }
}

/**
 * Patches one Service selector with its resourceVersion precondition, retrying throttling, 5xx answers and
 * dropped connections with backoff: the precondition makes a retry safe. When an attempt whose answer was lost
 * did go through, the retry meets a 409; the Service is then read again, and a selector that already says what
 * the patch said counts as done. A 409 with no lost attempt before it is someone else's change, and is thrown.
 */
async function patchSelector(context: SwitchContext, change: ServiceSwitch): Promise<void> {
  const { kube, namespace, host } = context;
  let lostAnswer = false;
  await withRetry(
    async () => {
      try {
        await kube.core.patchNamespacedService(
          { name: change.name, namespace, body: selectorPatch(change) },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
      } catch (error) {
        if (lostAnswer && isConflict(error)) {
          const current = await kube.core.readNamespacedService({ name: change.name, namespace });
          const selector = current.spec?.selector ?? {};
          if (Object.entries(change.to).every(([key, value]) => selector[key] === value)) return;
        }
        if (isTransient(error)) lostAnswer = true;
        throw error;
      }
    },
    {
      signal: context.signal,
      onRetry: (error, attempt, delayMs) =>
        host.info(
          `Service ${change.name}: the selector patch met ${describeError(error)}; retry ${attempt} in ${Math.round(delayMs)} ms`,
        ),
    },
  );
}

/** Puts back the selectors and backends a failed switch already changed, reading each object afresh. */
async function undoSwitch(
  context: SwitchContext,
  plan: SwitchPlan,
  services: readonly ServiceSwitch[],
  ingresses: readonly IngressSwitch[],
): Promise<void> {
  const { kube, namespace, host } = context;
  for (const change of [...services].reverse()) {
    try {
      const current = await kube.core.readNamespacedService({ name: change.name, namespace });
      await kube.core.patchNamespacedService(
        {
          name: change.name,
          namespace,
          body: selectorPatch({ resourceVersion: current.metadata?.resourceVersion ?? '', to: change.from }),
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      host.info(`Service ${change.name}: selector put back to ${formatSelector(change.from)}`);
    } catch (error) {
      host.annotate(
        'error',
        `could not put back Service ${namespace}/${change.name} to ${formatSelector(change.from)}: ` +
          `${describeError(error)}. Fix it by hand: its selector must select ${plan.activeBefore ?? 'the live colour'}.`,
      );
    }
  }
  if (ingresses.length === 0) return;
  const networking = kube.config.makeApiClient(NetworkingV1Api);
  const back = otherColor(plan.target);
  for (const change of [...ingresses].reverse()) {
    try {
      const current = await networking.readNamespacedIngress({ name: change.name, namespace });
      const reverted = planSwitch({
        app: plan.app,
        namespace,
        target: back,
        route: 'ingress',
        services: [],
        ingresses: [current],
      });
      for (const ingress of reverted.ingresses) {
        await networking.replaceNamespacedIngress({ name: ingress.name, namespace, body: ingress.to });
      }
      host.info(`Ingress ${change.name}: backends put back to ${plan.app}-${back}`);
    } catch (error) {
      host.annotate(
        'error',
        `could not put back Ingress ${namespace}/${change.name}: ${describeError(error)}. Fix it by hand.`,
      );
    }
  }
}

/**
 * Waits, by watching its EndpointSlices and the app's pods, until the Service `service` holds only ready
 * endpoints of `color` (at least one, none of the other colour). Returns the census seen at that instant.
 */
export async function waitForOnlyColor(
  context: SwitchContext,
  app: string,
  service: string,
  color: Color,
): Promise<EndpointCensus> {
  const { kube, namespace } = context;
  const progress = new Progress(context.host, 5_000);
  let last: EndpointCensus | undefined;
  return watchUntil(
    kube,
    [endpointSliceSource(kube, namespace, service), podSource(kube, namespace, podSelector(app))] as const,
    ([slices, pods]) => {
      last = endpointCensus(slices, pods);
      if (onlyColor(last, color)) return last;
      progress.update(`Service ${service} endpoints: ${formatCensus(last)}; waiting for ${color} only`);
      return undefined;
    },
    {
      deadline: context.deadline,
      signal: context.signal,
      what: `endpoints of Service ${service}`,
      onTimeout: () =>
        new GreenlightError({
          what: `wait for Service ${service} to serve only ${color}`,
          object: { kind: 'Service', name: service, namespace },
          reason: last
            ? `its EndpointSlices still hold ${formatCensus(last)} at the deadline`
            : 'its EndpointSlices could not be listed before the deadline',
          hint: 'check the EndpointSlice controller (kube-controller-manager) and the pods of both colours',
        }),
    },
  );
}

/** Options of a flip between colours. */
export interface FlipOptions {
  app: string;
  route: 'service' | 'ingress';
  target: Color;
}

/**
 * Switches traffic to `target` and waits until the active Service serves only it (route: service), or the
 * target colour Service has ready endpoints (route: ingress). Used by promote, rollback and the automatic
 * flip-back.
 */
export async function flipTo(context: SwitchContext, options: FlipOptions): Promise<void> {
  const { kube, namespace } = context;
  const services = await withRetry(() => kube.core.listNamespacedService({ namespace }), {
    signal: context.signal,
  }).catch((error: unknown) => {
    throw kubeError(error, { what: 'list the Services to switch', server: kube.server });
  });
  const ingresses =
    options.route === 'ingress'
      ? (
          await withRetry(
            () => kube.config.makeApiClient(NetworkingV1Api).listNamespacedIngress({ namespace }),
            {
              signal: context.signal,
            },
          ).catch((error: unknown) => {
            throw kubeError(error, { what: 'list the Ingresses to switch', server: kube.server });
          })
        ).items
      : [];
  const plan = planSwitch({
    app: options.app,
    namespace,
    target: options.target,
    services: services.items,
    route: options.route,
    ingresses,
  });
  await applySwitch(context, plan);
  const watched =
    options.route === 'service' ? activeServiceName(options.app) : `${options.app}-${options.target}`;
  await waitForOnlyColor(context, options.app, watched, options.target);
}
