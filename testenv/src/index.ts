// The test library: what an integration or end-to-end test needs from testenv.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import {
  AuthorizationV1Api,
  CoreV1Api,
  KubeConfig,
  RbacAuthorizationV1Api,
  type V1PolicyRule,
  type V1Role,
} from '@kubernetes/client-node';
import YAML from 'yaml';
import type { ProxyStats } from './fault-proxy.ts';
import type { ActiveFault, FaultRule } from './faults.ts';
import { apiStatus, createIfMissing, watchUntil } from './kube.ts';
import { paths } from './paths.ts';
import { kubeconfigYaml } from './pki.ts';
import { parseEnv } from './state.ts';

export type { ProxyStats } from './fault-proxy.ts';
export type { ActiveFault, FaultRule } from './faults.ts';
export { type KubeObject, watchUntil } from './kube.ts';

export interface TestEnv {
  KUBECONFIG: string;
  TESTENV_APISERVER: string;
  TESTENV_CA_FILE: string;
  TESTENV_PROXY_KUBECONFIG: string;
  TESTENV_PROXY_CONTROL: string;
  TESTENV_REGISTRY: string;
  TESTENV_REGISTRY_AUTH: string;
  TESTENV_REGISTRY_USER: string;
  TESTENV_REGISTRY_PASSWORD: string;
  TESTENV_BASE_IMAGE: string;
  TESTENV_BASE_IMAGE_DIGEST: string;
  TESTENV_PROMETHEUS_URL: string;
  TESTENV_EXPORTER_URL: string;
  TESTENV_HELM3: string;
  TESTENV_HELM4: string;
  TESTENV_KUBECTL: string;
  TESTENV_NODE: string;
  TESTENV_LOGS: string;
  [name: string]: string;
}

/** Pod template annotations that steer the KWOK-simulated pods. */
export const podBehaviour = {
  neverReady: { 'testenv.greenlight.dev/never-ready': 'true' },
  readyAfter: (seconds: number) => ({ 'testenv.greenlight.dev/ready-after': String(seconds) }),
  crashLoop: { 'testenv.greenlight.dev/crash-loop': 'true' },
  imagePullFailure: { 'testenv.greenlight.dev/image-pull-failure': 'true' },
} as const;

/**
 * Reads .testenv/env (written by `up`). With `apply`, also copies the values
 * into process.env so that child processes (helm, buildah, the CLI) see them.
 */
export function loadEnv(options: { apply?: boolean } = {}): TestEnv {
  let text: string;
  try {
    text = fs.readFileSync(paths.env, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(`${paths.env} is missing: the test environment is not up (npm run testenv -- up)`);
    }
    throw error;
  }
  const env = parseEnv(text) as TestEnv;
  if (options.apply) Object.assign(process.env, env);
  return env;
}

/** A KubeConfig for the cluster admin (or, with viaProxy, the admin through the fault proxy). */
export function kubeConfig(options: { viaProxy?: boolean } = {}): KubeConfig {
  const env = loadEnv();
  const kc = new KubeConfig();
  kc.loadFromFile(options.viaProxy ? env.TESTENV_PROXY_KUBECONFIG : env.KUBECONFIG);
  return kc;
}

export interface TestNamespace {
  name: string;
  /** Deletes the namespace (without waiting for it to be gone). */
  delete: () => Promise<void>;
}

/**
 * Creates a namespace `<prefix>-<random>` labelled testenv.greenlight.dev/test,
 * and waits until its default ServiceAccount exists so pods can be created.
 */
export async function createTestNamespace(
  prefix: string,
  kc: KubeConfig = kubeConfig(),
): Promise<TestNamespace> {
  const core = kc.makeApiClient(CoreV1Api);
  const base =
    prefix
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 50) || 'test';
  const name = `${base}-${randomBytes(3).toString('hex')}`;
  await core.createNamespace({
    body: { metadata: { name, labels: { 'testenv.greenlight.dev/test': 'true' } } },
  });
  await watchUntil(
    kc,
    { path: `/api/v1/namespaces/${name}/serviceaccounts`, fieldSelector: 'metadata.name=default' },
    (sas) => (sas.size > 0 ? true : undefined),
    { timeoutMs: 60_000, what: `the default ServiceAccount in ${name}` },
  );
  return {
    name,
    delete: async () => {
      try {
        await core.deleteNamespace({ name });
      } catch (error) {
        if (apiStatus(error) !== 404) throw error;
      }
    },
  };
}

/**
 * Creates ServiceAccount `name` in `namespace`, a Role (from rules, or a Role
 * YAML whose name and namespace are set to ours) and a RoleBinding, and returns
 * a kubeconfig (YAML) that authenticates as the ServiceAccount with a token
 * from the TokenRequest API. Waits until RBAC grants the first rule.
 */
export async function serviceAccountKubeconfig(
  namespace: string,
  name: string,
  role: V1PolicyRule[] | string,
  options: { viaProxy?: boolean; expirationSeconds?: number; kc?: KubeConfig } = {},
): Promise<string> {
  const env = loadEnv();
  const kc = options.kc ?? kubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  const roleName = `${name}-role`;
  const body: V1Role =
    typeof role === 'string'
      ? (YAML.parse(role) as V1Role)
      : { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: {}, rules: role };
  if (body.kind !== 'Role') throw new Error(`serviceAccountKubeconfig: expected a Role, got ${body.kind}`);
  body.metadata = { ...body.metadata, name: roleName, namespace };
  await createIfMissing(() =>
    core.createNamespacedServiceAccount({ namespace, body: { metadata: { name, namespace } } }),
  );
  try {
    await rbac.createNamespacedRole({ namespace, body });
  } catch (error) {
    if (apiStatus(error) !== 409) throw error;
    await rbac.replaceNamespacedRole({ name: roleName, namespace, body });
  }
  await createIfMissing(() =>
    rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: `${name}-binding`, namespace },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: roleName },
        subjects: [{ kind: 'ServiceAccount', name, namespace }],
      },
    }),
  );
  const token = await core.createNamespacedServiceAccountToken({
    name,
    namespace,
    body: { spec: { expirationSeconds: options.expirationSeconds ?? 3600, audiences: [] } },
  });
  const user = `system:serviceaccount:${namespace}:${name}`;
  await waitForGrant(kc, user, namespace, body.rules ?? []);
  const server = options.viaProxy
    ? kubeConfig({ viaProxy: true }).getCurrentCluster()?.server
    : env.TESTENV_APISERVER;
  if (!server) throw new Error(`no server in ${env.TESTENV_PROXY_KUBECONFIG}`);
  return kubeconfigYaml({
    server,
    caFile: env.TESTENV_CA_FILE,
    user,
    token: token.status?.token ?? '',
    namespace,
  });
}

/** The RBAC authorizer learns of new bindings through an informer; wait until it has. */
async function waitForGrant(
  kc: KubeConfig,
  user: string,
  namespace: string,
  rules: V1PolicyRule[],
): Promise<void> {
  const rule = rules.find(
    (r) => r.verbs?.[0] && r.verbs[0] !== '*' && r.resources?.[0] && !r.resources[0].includes('*'),
  );
  if (!rule) return;
  const authz = kc.makeApiClient(AuthorizationV1Api);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const review = await authz.createSubjectAccessReview({
      body: {
        spec: {
          user,
          groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
          resourceAttributes: {
            namespace,
            verb: rule.verbs[0],
            group: rule.apiGroups?.[0] ?? '',
            resource: rule.resources?.[0]?.split('/')[0],
            subresource: rule.resources?.[0]?.split('/')[1],
          },
        },
      },
    });
    if (review.status?.allowed) return;
    if (Date.now() > deadline)
      throw new Error(
        `RBAC did not grant ${user} ${rule.verbs[0]} ${rule.resources?.[0]} in ${namespace} within 30 s`,
      );
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// ---------------------------------------------------------------- fault proxy

async function control<T>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${base}${path}: ${response.status} ${text}`);
  return JSON.parse(text) as T;
}

export const faultProxy = {
  /** Adds a fault rule; it applies to requests through TESTENV_PROXY_KUBECONFIG. */
  add: (rule: FaultRule): Promise<ActiveFault> =>
    control(loadEnv().TESTENV_PROXY_CONTROL, 'POST', '/faults', rule),
  remove: (id: string): Promise<unknown> =>
    control(loadEnv().TESTENV_PROXY_CONTROL, 'DELETE', `/faults/${encodeURIComponent(id)}`),
  clear: (): Promise<unknown> => control(loadEnv().TESTENV_PROXY_CONTROL, 'DELETE', '/faults'),
  list: (): Promise<ActiveFault[]> => control(loadEnv().TESTENV_PROXY_CONTROL, 'GET', '/faults'),
  stats: (): Promise<ProxyStats> => control(loadEnv().TESTENV_PROXY_CONTROL, 'GET', '/stats'),
  resetStats: (): Promise<unknown> => control(loadEnv().TESTENV_PROXY_CONTROL, 'DELETE', '/stats'),
  /** Runs `fn` with the rule in place and removes it afterwards. */
  async with<T>(rule: FaultRule, fn: () => Promise<T>): Promise<T> {
    const active = await faultProxy.add(rule);
    try {
      return await fn();
    } finally {
      await faultProxy.remove(active.id);
    }
  },
};

// ---------------------------------------------------------------- exporter and Prometheus

export const exporter = {
  /** Sets a gauge (or, with type counter, a counter) sample. */
  set: (
    name: string,
    value: number,
    labels: Record<string, string> = {},
    options: { type?: 'gauge' | 'counter'; help?: string } = {},
  ) =>
    control(loadEnv().TESTENV_EXPORTER_URL, 'PUT', '/control/metrics', { name, value, labels, ...options }),
  /** Adds to a counter sample (creating it at 0). */
  increment: (name: string, by = 1, labels: Record<string, string> = {}) =>
    control(loadEnv().TESTENV_EXPORTER_URL, 'POST', '/control/metrics', { name, by, labels }),
  clear: () => control(loadEnv().TESTENV_EXPORTER_URL, 'DELETE', '/control/metrics'),
};

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** An instant query against testenv's Prometheus; returns the vector result. */
export async function queryPrometheus(query: string): Promise<PromSample[]> {
  const url = new URL('/api/v1/query', loadEnv().TESTENV_PROMETHEUS_URL);
  url.searchParams.set('query', query);
  const response = await fetch(url);
  const body = (await response.json()) as {
    status: string;
    data?: { resultType: string; result: PromSample[] };
    error?: string;
  };
  if (body.status !== 'success' || !body.data)
    throw new Error(`Prometheus query ${query}: ${body.error ?? response.status}`);
  if (body.data.resultType !== 'vector')
    throw new Error(`Prometheus query ${query}: expected a vector, got ${body.data.resultType}`);
  return body.data.result;
}
