import { createHash } from 'node:crypto';
import type {
  KubernetesObject,
  V1ConfigMap,
  V1Container,
  V1Deployment,
  V1PodSpec,
  V1Secret,
  V1Service,
  V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';
import { parseImageReference, repositoryName } from '../image/reference.ts';
import { parseSource } from '../kube/apply.ts';
import type { Color, ReleaseImage } from '../release/record.ts';
import { GreenlightError } from '../runtime/errors.ts';
import { APP_LABEL, activeServiceName, COLOR_LABEL, colorServiceName, previewServiceName } from './switch.ts';

/** Labels on every object Greenlight creates for an app. */
export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'greenlight' } as const;
/** Annotation on a per-colour copy naming the object it copies. */
export const COPY_OF_ANNOTATION = 'greenlight.dev/copy-of';
/** Label naming the environment on Greenlight's objects. */
export const ENVIRONMENT_LABEL = 'greenlight.dev/environment';

/** The Deployment of a colour: `<app>-<color>`. */
export function colorDeploymentName(app: string, color: Color): string {
  return `${app}-${color}`;
}

/** One object to deploy, with the template or file it came from (for error messages). */
export interface SourcedObject {
  object: KubernetesObject;
  /** `templates/deployment.yaml:12`, or a manifest path. */
  source?: string;
}

/** What the cluster looks like before the deploy, as far as the plan needs it. */
export interface DeploySnapshot {
  /** `spec.replicas` of the live colour's Deployment, when there is one. */
  liveReplicas?: number;
  /** Names of Services that exist already (the active one is only created, never changed, by a deploy). */
  existingServices: readonly string[];
  /**
   * A plain Deployment (no colour) running the app before Greenlight, to adopt: the candidate becomes the first
   * colour and, once healthy, the Service moves to it and this Deployment is scaled to zero. `selector` is the
   * live Service's selector: the candidate's pods leave out the labels it matches, so they get no traffic before
   * they are proven.
   */
  adopt?: { deployment: string; replicas: number; selector?: Record<string, string> };
}

export interface PlanInput {
  app: string;
  namespace: string;
  environment: string;
  /** The idle colour the release goes on. */
  candidate: Color;
  /** The colour serving traffic, undefined on a first deploy. */
  live: Color | undefined;
  /** Rendered objects (chart or manifests). */
  objects: readonly SourcedObject[];
  /** `name@digest` references; each replaces the image of exactly that repository. */
  images: readonly string[];
  snapshot: DeploySnapshot;
}

/** What a deploy applies, in order, and what it leaves to the promotion. */
export interface DeployPlan {
  app: string;
  namespace: string;
  candidate: Color;
  live: Color | undefined;
  /** Per-colour copies of the ConfigMaps and Secrets the pod template references (content-hashed names). */
  configCopies: KubernetesObject[];
  /** Objects applied as rendered: they are not per colour (ServiceAccounts, Ingresses, unreferenced config). */
  shared: SourcedObject[];
  /** The candidate's Deployment `<app>-<candidate>`. */
  deployment: V1Deployment;
  /** The template or file the workload was rendered from (`templates/deployment.yaml:3`). */
  deploymentSource?: string;
  /** Per-colour copies of the HorizontalPodAutoscalers that target the workload. */
  autoscalers: V2HorizontalPodAutoscaler[];
  /** Services that always select the candidate: `<app>-preview` and the colour Service `<app>-<candidate>`. */
  previewServices: V1Service[];
  /**
   * Services that carry live traffic, to create only when nothing serves yet (a first deploy, or an adoption),
   * once the candidate is proven healthy. Existing active Services are the promotion's to switch.
   */
  activeServices: V1Service[];
  /** The image substitutions made. */
  images: ReleaseImage[];
  /** Replicas the candidate starts with. */
  replicas: number;
  /** App version from the rendered workload's `app.kubernetes.io/version` label, when set. */
  appVersion?: string;
  /** A hash of the rendered objects and images: the same release gives the same fingerprint on either colour. */
  fingerprint: string;
  /** Things a person should know (kept in the log). */
  notes: string[];
}

const CONFIG_KINDS = new Set(['ConfigMap', 'Secret']);

function fail(reason: string, hint: string, source?: string): never {
  const place = source ? parseSource(source) : undefined;
  throw new GreenlightError({
    what: 'plan the deploy',
    file: place?.file,
    line: place?.line,
    reason: source ? `${reason} (${source})` : reason,
    hint,
  });
}

/**
 * Plans a deploy of rendered objects onto the candidate colour, without touching the cluster: the workload
 * becomes `<app>-<candidate>` with colour labels and a colour-only selector; ConfigMaps and Secrets it references
 * and the HPAs that target it are copied per colour; Services that select it get a preview and a colour Service on
 * the candidate, and become active Services only when nothing is live yet; images are pinned by exact
 * repository match. Everything else is shared and applied as rendered.
 */
export function planDeploy(input: PlanInput): DeployPlan {
  const { app, namespace, candidate } = input;
  const notes: string[] = [];
  const objects = input.objects.map((o) => ({
    object: withNamespace(structuredClone(o.object), namespace),
    source: o.source,
  }));

  const deployments = objects.filter((o) => o.object.kind === 'Deployment');
  if (deployments.length === 0) {
    fail(
      'the rendered objects hold no Deployment',
      'blue-green deploys one Deployment per app; check the chart values or the manifest paths',
    );
  }
  if (deployments.length > 1) {
    const names = deployments.map((d) => `${d.object.metadata?.name} (${d.source ?? 'rendered'})`);
    fail(
      `the rendered objects hold ${deployments.length} Deployments: ${names.join(', ')}`,
      'deploy one Deployment per app: split the chart, or disable the others with values',
    );
  }
  const rendered = deployments[0] as SourcedObject;
  const workload = rendered.object as V1Deployment;
  const originalName = workload.metadata?.name ?? app;
  const podSpec = workload.spec?.template?.spec;
  if (!podSpec?.containers?.length) {
    fail(`Deployment ${originalName} has no containers`, 'fix the chart template', rendered.source);
  }
  const templateLabels = { ...(workload.spec?.template?.metadata?.labels ?? {}) };

  // Images: pin each given reference on the containers of exactly its repository.
  const images = substituteImages(podSpec, input.images, rendered.source);

  // Config copies: ConfigMaps and Secrets the pod template references get a per-colour, content-hashed copy.
  const referenced = referencedConfig(podSpec);
  const configCopies: KubernetesObject[] = [];
  const renames = { ConfigMap: new Map<string, string>(), Secret: new Map<string, string>() };
  const consumed = new Set<SourcedObject>([rendered]);
  for (const item of objects) {
    const kind = item.object.kind ?? '';
    const name = item.object.metadata?.name ?? '';
    if (!CONFIG_KINDS.has(kind) || !referenced[kind as 'ConfigMap' | 'Secret'].has(name)) continue;
    const copyName = `${name}-${contentHash(item.object)}`;
    renames[kind as 'ConfigMap' | 'Secret'].set(name, copyName);
    const copy = structuredClone(item.object) as V1ConfigMap | V1Secret;
    copy.metadata = {
      name: copyName,
      namespace,
      labels: { ...(copy.metadata?.labels ?? {}), ...colorLabels(input, candidate) },
      annotations: { ...(copy.metadata?.annotations ?? {}), [COPY_OF_ANNOTATION]: name },
    };
    configCopies.push(copy as KubernetesObject);
    consumed.add(item);
  }
  renameConfigReferences(podSpec, renames);

  // Replicas: an autoscaled candidate starts where the live colour's autoscaler has taken it.
  const autoscalerSources = objects.filter((o) => {
    const hpa = o.object as V2HorizontalPodAutoscaler;
    return (
      o.object.kind === 'HorizontalPodAutoscaler' &&
      hpa.spec?.scaleTargetRef?.kind === 'Deployment' &&
      hpa.spec.scaleTargetRef.name === originalName
    );
  });
  let replicas = workload.spec?.replicas ?? 1;
  if (
    autoscalerSources.length > 0 &&
    input.snapshot.liveReplicas !== undefined &&
    input.snapshot.liveReplicas > 0
  ) {
    replicas = input.snapshot.liveReplicas;
    notes.push(`autoscaled: the candidate starts at the live colour's ${replicas} replicas`);
  } else if (input.snapshot.adopt && input.snapshot.adopt.replicas > replicas) {
    replicas = input.snapshot.adopt.replicas;
    notes.push(
      `adoption: the candidate starts at the ${replicas} replicas of Deployment ${input.snapshot.adopt.deployment}`,
    );
  }

  // Adoption: the plain Service still routes by the chart's labels; the candidate's pods must not match it yet.
  const podLabels = { ...templateLabels };
  const adoptSelector = input.snapshot.adopt?.selector ?? {};
  const withheld = Object.keys(adoptSelector).filter((key) => podLabels[key] === adoptSelector[key]);
  for (const key of withheld) delete podLabels[key];
  if (withheld.length > 0) {
    notes.push(
      `adoption: the candidate's pods go without ${withheld.join(', ')} so the old Service cannot route to them before the gates pass`,
    );
  }

  const deploymentName = colorDeploymentName(app, candidate);
  const deployment: V1Deployment = {
    ...workload,
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: deploymentName,
      namespace,
      labels: { ...(workload.metadata?.labels ?? {}), ...colorLabels(input, candidate) },
      annotations: { ...(workload.metadata?.annotations ?? {}) },
    },
    spec: {
      ...workload.spec,
      replicas,
      selector: { matchLabels: { [APP_LABEL]: app, [COLOR_LABEL]: candidate } },
      template: {
        ...workload.spec?.template,
        metadata: {
          ...workload.spec?.template?.metadata,
          labels: { ...podLabels, [APP_LABEL]: app, [COLOR_LABEL]: candidate },
        },
        spec: podSpec,
      },
    },
  };
  delete deployment.status;

  const autoscalers = autoscalerSources.map((o) => {
    consumed.add(o);
    const hpa = structuredClone(o.object) as V2HorizontalPodAutoscaler;
    const name = `${hpa.metadata?.name}-${candidate}`;
    return {
      ...hpa,
      metadata: {
        name,
        namespace,
        labels: { ...(hpa.metadata?.labels ?? {}), ...colorLabels(input, candidate) },
        annotations: { ...(hpa.metadata?.annotations ?? {}), [COPY_OF_ANNOTATION]: hpa.metadata?.name ?? '' },
      },
      spec: {
        ...(hpa.spec as NonNullable<V2HorizontalPodAutoscaler['spec']>),
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: deploymentName },
      },
    };
  });

  // Services: those whose selector picks the workload's pods route to the app.
  const routed = objects.filter((o) => {
    if (o.object.kind !== 'Service') return false;
    const selector = (o.object as V1Service).spec?.selector;
    return selector !== undefined && Object.keys(selector).length > 0 && isSubset(selector, templateLabels);
  });
  const previewServices: V1Service[] = [];
  const activeServices: V1Service[] = [];
  routed.forEach((o, index) => {
    consumed.add(o);
    const service = o.object as V1Service;
    // The first routed Service is the app's active Service `<app>`; others keep their names.
    const activeName = index === 0 ? activeServiceName(app) : (service.metadata?.name as string);
    const previewName = index === 0 ? previewServiceName(app) : `${activeName}-preview`;
    if (index === 0 && service.metadata?.name !== activeName) {
      notes.push(`Service ${service.metadata?.name} becomes the active Service ${activeName}`);
    }
    const pinned = { [APP_LABEL]: app, [COLOR_LABEL]: candidate };
    previewServices.push(internalCopy(service, previewName, pinned, input));
    if (index === 0)
      previewServices.push(internalCopy(service, colorServiceName(app, candidate), pinned, input));
    const exists = input.snapshot.existingServices.includes(activeName);
    if (!input.live && (!exists || input.snapshot.adopt)) {
      activeServices.push({
        ...service,
        metadata: {
          ...service.metadata,
          name: activeName,
          namespace,
          labels: { ...(service.metadata?.labels ?? {}), [APP_LABEL]: app, ...MANAGED_BY },
        },
        spec: { ...service.spec, selector: pinned },
      });
    } else if (!exists) {
      notes.push(`Service ${activeName} does not exist although ${input.live} is live; promote creates it`);
    }
  });

  const shared = objects.filter((o) => !consumed.has(o));
  const appVersion =
    workload.metadata?.labels?.['app.kubernetes.io/version'] ?? templateLabels['app.kubernetes.io/version'];
  // The release's identity: what was rendered and which images, whatever the colour or replica count.
  const fingerprint = hashOf({
    app,
    environment: input.environment,
    objects: input.objects.map((o) => o.object),
    images: [...input.images].sort(),
  });
  return {
    app,
    namespace,
    candidate,
    live: input.live,
    configCopies,
    shared,
    deployment,
    deploymentSource: rendered.source,
    autoscalers,
    previewServices,
    activeServices,
    images,
    replicas,
    appVersion,
    fingerprint,
    notes,
  };
}

function colorLabels(input: PlanInput, color: Color): Record<string, string> {
  return {
    [APP_LABEL]: input.app,
    [COLOR_LABEL]: color,
    [ENVIRONMENT_LABEL]: input.environment,
    ...MANAGED_BY,
  };
}

function withNamespace(object: KubernetesObject, namespace: string): KubernetesObject {
  object.metadata = { ...(object.metadata ?? {}), namespace };
  return object;
}

/** A ClusterIP copy of a Service with a pinned selector: previews never take a load balancer or node port. */
function internalCopy(
  service: V1Service,
  name: string,
  selector: Record<string, string>,
  input: PlanInput,
): V1Service {
  const ports = (service.spec?.ports ?? []).map((port) => {
    const copy = { ...port };
    delete copy.nodePort;
    return copy;
  });
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace: input.namespace,
      labels: { [APP_LABEL]: input.app, [ENVIRONMENT_LABEL]: input.environment, ...MANAGED_BY },
      annotations: { [COPY_OF_ANNOTATION]: service.metadata?.name ?? '' },
    },
    spec: { type: 'ClusterIP', ports, selector },
  };
}

function containersOf(spec: V1PodSpec): V1Container[] {
  return [...(spec.initContainers ?? []), ...spec.containers];
}

function substituteImages(
  spec: V1PodSpec,
  images: readonly string[],
  source: string | undefined,
): ReleaseImage[] {
  const result: ReleaseImage[] = [];
  const containers = containersOf(spec);
  for (const text of images) {
    const wanted = parseImageReference(text);
    const repository = repositoryName(wanted);
    const matches = containers.filter((c) => {
      if (!c.image) return false;
      try {
        return repositoryName(parseImageReference(c.image)) === repository;
      } catch {
        return false;
      }
    });
    if (matches.length === 0) {
      const seen = containers.map((c) => `${c.name}: ${c.image ?? '(none)'}`).join(', ');
      fail(
        `the image ${text} matches no container (repository ${repository}; the containers run ${seen})`,
        'each `images` entry replaces the image of exactly its repository: check the name and registry (with its port)',
        source,
      );
    }
    for (const container of matches) container.image = text;
    result.push({ repository, digest: wanted.digest, reference: text });
  }
  for (const container of containers) {
    if (result.some((r) => r.reference === container.image)) continue;
    try {
      const ref = parseImageReference(container.image ?? '');
      result.push({ repository: repositoryName(ref), digest: ref.digest, reference: container.image ?? '' });
    } catch {
      result.push({ repository: container.image ?? '', reference: container.image ?? '' });
    }
  }
  return result;
}

interface Referenced {
  ConfigMap: Set<string>;
  Secret: Set<string>;
}

function referencedConfig(spec: V1PodSpec): Referenced {
  const found: Referenced = { ConfigMap: new Set(), Secret: new Set() };
  visitConfigReferences(spec, (kind, name) => {
    found[kind].add(name);
    return name;
  });
  return found;
}

function renameConfigReferences(
  spec: V1PodSpec,
  renames: { ConfigMap: Map<string, string>; Secret: Map<string, string> },
): void {
  visitConfigReferences(spec, (kind, name) => renames[kind].get(name) ?? name);
}

/** Calls `visit` on every ConfigMap and Secret name the pod spec uses, replacing it with what `visit` returns. */
function visitConfigReferences(
  spec: V1PodSpec,
  visit: (kind: 'ConfigMap' | 'Secret', name: string) => string,
): void {
  for (const volume of spec.volumes ?? []) {
    if (volume.configMap?.name) volume.configMap.name = visit('ConfigMap', volume.configMap.name);
    if (volume.secret?.secretName) volume.secret.secretName = visit('Secret', volume.secret.secretName);
    for (const source of volume.projected?.sources ?? []) {
      if (source.configMap?.name) source.configMap.name = visit('ConfigMap', source.configMap.name);
      if (source.secret?.name) source.secret.name = visit('Secret', source.secret.name);
    }
  }
  for (const container of containersOf(spec)) {
    for (const from of container.envFrom ?? []) {
      if (from.configMapRef?.name) from.configMapRef.name = visit('ConfigMap', from.configMapRef.name);
      if (from.secretRef?.name) from.secretRef.name = visit('Secret', from.secretRef.name);
    }
    for (const env of container.env ?? []) {
      const ref = env.valueFrom;
      if (ref?.configMapKeyRef?.name) ref.configMapKeyRef.name = visit('ConfigMap', ref.configMapKeyRef.name);
      if (ref?.secretKeyRef?.name) ref.secretKeyRef.name = visit('Secret', ref.secretKeyRef.name);
    }
  }
}

function isSubset(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** A short hash of a ConfigMap's or Secret's content (not its name or labels). */
function contentHash(object: KubernetesObject): string {
  const { data, binaryData, stringData, type, immutable } = object as V1Secret & V1ConfigMap;
  return hashOf({ data, binaryData, stringData, type, immutable }).slice(0, 10);
}

/** A stable hash of JSON-like data: object keys are sorted, so key order does not matter. */
export function hashOf(value: unknown): string {
  return createHash('sha256').update(canonical(value)).digest('hex');
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
