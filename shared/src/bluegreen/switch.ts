import type { V1Ingress, V1Service } from '@kubernetes/client-node';
import { GreenlightError } from '../runtime/errors.ts';

/** The two colours of a blue-green app. */
export type Color = 'blue' | 'green';

/** The pod label naming the app, on every pod Greenlight deploys. */
export const APP_LABEL = 'greenlight.dev/app';
/** The pod label naming the colour; the active Service selects on it. */
export const COLOR_LABEL = 'greenlight.dev/color';
/** Annotation on a Service that selects the app but must never be switched (`"false"`). */
export const SWITCH_ANNOTATION = 'greenlight.dev/switch';

/** The colour that is not `color`. */
export function otherColor(color: Color): Color {
  return color === 'blue' ? 'green' : 'blue';
}

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

  if (input.route === 'ingress') {
    planIngresses(plan, input.ingresses ?? [], namespace);
    return plan;
  }

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
