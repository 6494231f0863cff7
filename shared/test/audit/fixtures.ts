// Builders for audit tests: a workload that passes every static rule, and helpers to break it one field at a time.
import type {
  KubernetesObject,
  V1Container,
  V1Deployment,
  V1NetworkPolicy,
  V1PodDisruptionBudget,
  V1PodSpec,
  V1Service,
} from '@kubernetes/client-node';
import type { ChartInfo } from '../../src/audit/charts.ts';
import { type AuditConfig, defaultConfig } from '../../src/audit/config.ts';
import { runRules } from '../../src/audit/engine.ts';
import { ALL_RULES, ruleById } from '../../src/audit/rules/index.ts';
import type { AuditObject, Finding } from '../../src/audit/types.ts';
import type { ReleaseMap } from '../../src/version/release-map.ts';

export const DIGEST = `sha256:${'a'.repeat(64)}`;

/** A container that no static rule objects to. */
export function cleanContainer(overrides: Partial<V1Container> = {}): V1Container {
  return {
    name: 'web',
    image: `registry.example.com/shop/api:1.2.3@${DIGEST}`,
    imagePullPolicy: 'IfNotPresent',
    ports: [{ name: 'http', containerPort: 8080 }],
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
    readinessProbe: { httpGet: { path: '/ready', port: 'http' }, periodSeconds: 5, timeoutSeconds: 2 },
    livenessProbe: {
      httpGet: { path: '/healthz', port: 'http' },
      periodSeconds: 10,
      timeoutSeconds: 3,
      failureThreshold: 6,
    },
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    },
    ...overrides,
  };
}

const LABELS = { app: 'api' };

/** A pod spec that no static rule objects to. */
export function cleanPodSpec(overrides: Partial<V1PodSpec> = {}): V1PodSpec {
  return {
    securityContext: { runAsNonRoot: true, runAsUser: 10001 },
    topologySpreadConstraints: [
      {
        maxSkew: 1,
        topologyKey: 'kubernetes.io/hostname',
        whenUnsatisfiable: 'ScheduleAnyway',
        labelSelector: { matchLabels: LABELS },
      },
    ],
    containers: [cleanContainer()],
    ...overrides,
  };
}

/** A Deployment of 3 replicas in namespace shop; `spec` and `container` override the clean ones. */
export function deployment(
  options: {
    name?: string;
    replicas?: number;
    spec?: Partial<V1PodSpec>;
    container?: Partial<V1Container>;
    apiVersion?: string;
  } = {},
): V1Deployment {
  const spec = cleanPodSpec(options.spec);
  if (options.container) spec.containers = [cleanContainer(options.container)];
  return {
    apiVersion: options.apiVersion ?? 'apps/v1',
    kind: 'Deployment',
    metadata: { name: options.name ?? 'api', namespace: 'shop' },
    spec: {
      replicas: options.replicas ?? 3,
      selector: { matchLabels: LABELS },
      template: { metadata: { labels: LABELS }, spec },
    },
  };
}

export function service(overrides: Partial<V1Service['spec']> = {}, name = 'api'): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'shop' },
    spec: { selector: LABELS, ports: [{ port: 80, targetPort: 'http' }], ...overrides },
  };
}

export function pdb(): V1PodDisruptionBudget {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: 'api', namespace: 'shop' },
    spec: { minAvailable: 1, selector: { matchLabels: LABELS } },
  };
}

export function networkPolicy(): V1NetworkPolicy {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'default-deny', namespace: 'shop' },
    spec: { podSelector: {}, policyTypes: ['Ingress'] },
  };
}

/** The Deployment with its Service, PodDisruptionBudget and NetworkPolicy: a set no static rule objects to. */
export function cleanSet(main: KubernetesObject = deployment()): KubernetesObject[] {
  return [main, service(), pdb(), networkPolicy()];
}

export function wrap(objects: readonly KubernetesObject[]): AuditObject[] {
  return objects.map((object) => ({ object }));
}

/** Runs one rule (or all) over objects and returns its findings. */
export function check(
  ruleId: string | undefined,
  objects: readonly KubernetesObject[],
  options: {
    config?: Partial<AuditConfig>;
    minor?: number;
    mode?: 'static' | 'live';
    now?: Date;
    charts?: ChartInfo[];
    releaseMap?: ReleaseMap;
  } = {},
): Finding[] {
  const rule = ruleId ? ruleById(ruleId) : undefined;
  if (ruleId && !rule) throw new Error(`no rule ${ruleId}`);
  const config = { ...defaultConfig(), ...options.config };
  return runRules(wrap(objects), {
    rules: rule ? [rule] : ALL_RULES,
    config,
    kubernetesMinor: options.minor ?? 36,
    mode: options.mode ?? 'static',
    now: options.now,
    charts: options.charts,
    releaseMap: options.releaseMap,
  }).findings;
}
