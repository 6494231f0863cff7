import type {
  V1Container,
  V1Deployment,
  V1LabelSelector,
  V1Pod,
  V1PodSpec,
  V1PodTemplateSpec,
  V1StatefulSet,
} from '@kubernetes/client-node';
import type { FieldPath } from '../chart/types.ts';
import type { AuditObject } from './types.ts';

/** Kinds that run pods, and where their pod template sits. */
const TEMPLATE_PATHS: Readonly<Record<string, FieldPath>> = {
  Deployment: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  ReplicationController: ['spec', 'template'],
  Job: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
};

/** A container of a workload, with the path to it for locating findings. */
export interface WorkloadContainer {
  container: V1Container;
  path: FieldPath;
  init: boolean;
}

/** Anything that runs pods, seen through its pod template. */
export interface Workload {
  target: AuditObject;
  kind: string;
  name: string;
  namespace: string | undefined;
  spec: V1PodSpec;
  /** The path to the pod spec inside the object. */
  specPath: FieldPath;
  /** The labels the pods get. */
  podLabels: Record<string, string>;
  podAnnotations: Record<string, string>;
  /** Desired replicas for scalable kinds (a missing field means 1); undefined for DaemonSets, Jobs and Pods. */
  replicas: number | undefined;
  /** Jobs and CronJobs run to completion: no probes, no availability rules. */
  runsToCompletion: boolean;
  containers: WorkloadContainer[];
}

function get(value: unknown, path: FieldPath): unknown {
  let current: unknown = value;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[segment];
  }
  return current;
}

/**
 * The workload view of an object, or undefined when it runs no pods. Pods owned by a controller are skipped
 * (their controller is audited instead) unless `includeOwnedPods`.
 */
export function asWorkload(target: AuditObject, includeOwnedPods = false): Workload | undefined {
  const object = target.object;
  const kind = object.kind ?? '';
  let template: V1PodTemplateSpec | undefined;
  let templatePath: FieldPath;
  if (kind === 'Pod') {
    const pod = object as V1Pod;
    if (!includeOwnedPods && (pod.metadata?.ownerReferences?.length ?? 0) > 0) return undefined;
    template = { metadata: pod.metadata, spec: pod.spec };
    templatePath = [];
  } else {
    const path = TEMPLATE_PATHS[kind];
    if (!path) return undefined;
    template = get(object, path) as V1PodTemplateSpec | undefined;
    templatePath = path;
  }
  const spec = template?.spec;
  if (!spec || typeof spec !== 'object') return undefined;
  const specPath = [...templatePath, 'spec'];
  const containers: WorkloadContainer[] = [];
  (Array.isArray(spec.initContainers) ? spec.initContainers : []).forEach((container, index) => {
    containers.push({ container, path: [...specPath, 'initContainers', index], init: true });
  });
  (Array.isArray(spec.containers) ? spec.containers : []).forEach((container, index) => {
    containers.push({ container, path: [...specPath, 'containers', index], init: false });
  });
  const scalable = ['Deployment', 'StatefulSet', 'ReplicaSet', 'ReplicationController'].includes(kind);
  const rawReplicas = (object as V1Deployment | V1StatefulSet).spec?.replicas;
  return {
    target,
    kind,
    name: object.metadata?.name ?? '',
    namespace: object.metadata?.namespace,
    spec,
    specPath,
    podLabels: template?.metadata?.labels ?? {},
    podAnnotations: template?.metadata?.annotations ?? {},
    replicas: scalable ? (typeof rawReplicas === 'number' ? rawReplicas : 1) : undefined,
    runsToCompletion:
      kind === 'Job' || kind === 'CronJob' || (kind === 'Pod' && isCompletingPod(object as V1Pod)),
    containers,
  };
}

function isCompletingPod(pod: V1Pod): boolean {
  const policy = pod.spec?.restartPolicy;
  return policy === 'Never' || policy === 'OnFailure';
}

/** True when a label selector (matchLabels and matchExpressions) selects `labels`. An empty selector selects all. */
export function selectorMatches(
  selector: V1LabelSelector | undefined,
  labels: Record<string, string>,
): boolean {
  if (!selector) return false;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {}))
    if (labels[key] !== value) return false;
  for (const expression of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, expression.key);
    const value = labels[expression.key];
    const values = expression.values ?? [];
    switch (expression.operator) {
      case 'In':
        if (!has || !values.includes(value as string)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(value as string)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** True when a Service's plain map selector selects `labels`. A Service without a selector selects nothing. */
export function mapSelectorMatches(
  selector: Record<string, string> | undefined,
  labels: Record<string, string>,
) {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}
