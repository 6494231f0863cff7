// Where traffic goes: the active Service's selector, or Ingress backends on the colour Services.
import { NetworkingV1Api, type V1Ingress, type V1IngressBackend } from '@kubernetes/client-node';
import { isNotFound, kubeError, statusCode } from '../kube/errors.ts';
import { withRetry } from '../kube/retry.ts';
import type { Color } from '../release/record.ts';
import { GreenlightError } from '../runtime/errors.ts';
import { APP_LABEL, activeServiceName, COLOR_LABEL, colorServiceName, type SwitchContext } from './switch.ts';

/**
 * Where traffic goes now. `service`: the colour the active Service `<app>` selects (undefined when it does not
 * exist or selects no colour). `ingress`: the colour every Ingress backend naming a colour Service of the app
 * points at (undefined when none does, or when they point at both).
 */
export async function trafficColor(
  context: Pick<SwitchContext, 'kube' | 'namespace' | 'signal'>,
  app: string,
  route: 'service' | 'ingress',
): Promise<Color | undefined> {
  const { kube, namespace } = context;
  if (route === 'ingress') {
    const ingresses = await listIngresses(context).catch((error: unknown) => {
      throw kubeError(error, {
        what: 'read where traffic goes',
        object: { kind: 'Ingress', name: '(list)', namespace },
        server: kube.server,
      });
    });
    const colors = ingressColors(ingresses, app);
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
    ingresses = await listIngresses(context);
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

/** Every Ingress of the namespace (transient failures retried); a refusal comes as the API gave it. */
async function listIngresses(
  context: Pick<SwitchContext, 'kube' | 'namespace' | 'signal'>,
): Promise<V1Ingress[]> {
  const networking = context.kube.config.makeApiClient(NetworkingV1Api);
  const list = await withRetry(() => networking.listNamespacedIngress({ namespace: context.namespace }), {
    signal: context.signal,
  });
  return list.items;
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
