// The shipped auditor Role (rbac/auditor-role.yaml) against testenv's real API server, RBAC on: the live audit runs
// as a ServiceAccount bound to exactly that file, through a private fault proxy that records every request, so the
// Role's grants can be compared with what the audit really asked for. The proxy passes a bearer token on as it
// came, so the API server sees the ServiceAccount, not the admin.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AppsV1Api,
  AuthorizationV1Api,
  CoreV1Api,
  KubeConfig,
  RbacAuthorizationV1Api,
  type V1Deployment,
  type V1PolicyRule,
  type V1Role,
  VersionApi,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type PrivateProxy, type SeenRequest, startPrivateProxy } from '../../../e2e/support/proxy.ts';
import {
  createTestNamespace,
  kubeConfig,
  loadEnv,
  serviceAccountKubeconfig,
  type TestNamespace,
  watchUntil,
} from '../../../testenv/src/index.ts';
import { audit } from '../../src/commands/audit.ts';
import { encodeRecord, recordLabels, recordName } from '../../src/release/record.ts';
import { execute } from '../../src/runtime/command.ts';
import { CliHost } from '../../src/runtime/host.ts';

const roleYaml = readFileSync(
  join(import.meta.dirname, '..', '..', '..', 'rbac', 'auditor-role.yaml'),
  'utf8',
);
const role = parse(roleYaml) as V1Role;

const env = loadEnv({ apply: true });
const admin = kubeConfig();
const core = admin.makeApiClient(CoreV1Api);
const apps = admin.makeApiClient(AppsV1Api);
const rbac = admin.makeApiClient(RbacAuthorizationV1Api);

interface Report {
  kubernetesVersion: string;
  findings: {
    ruleId: string;
    fingerprint: string;
    object: { kind: string; namespace?: string; name: string };
  }[];
}

/** Runs the audit command as the CLI and the action do, and returns its outputs, log and JSON report. */
async function runAudit(inputs: Record<string, string>) {
  const lines: string[] = [];
  const host = new CliHost({ write: (line) => lines.push(line) });
  const jsonFile = join(mkdtempSync(join(tmpdir(), 'gl-auditor-')), 'audit.json');
  const all: Record<string, string> = {
    cluster: 'true',
    format: 'json',
    'json-file': jsonFile,
    'fail-on': 'never',
    ...inputs,
  };
  const outputs = await execute(audit, (name) => all[name], host, new AbortController().signal);
  let report: Report | undefined;
  try {
    report = JSON.parse(readFileSync(jsonFile, 'utf8')) as Report;
  } catch {
    report = undefined;
  }
  return { outputs, lines, report };
}

/** The same kubeconfig with another server (the private proxy, which serves the testenv CA's certificate). */
function withServer(kubeconfig: string, server: string): string {
  return kubeconfig.replace(/^(\s*server:\s*).*$/m, `$1${JSON.stringify(server)}`);
}

function clientFor(kubeconfig: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfig);
  return kc;
}

/**
 * The RBAC permission a request needed, as `verb resource.group` (`list deployments.apps`, `list pods`), or
 * `get <path>` for a non-resource URL such as /version.
 */
function permissionOf(request: SeenRequest): string {
  const url = new URL(request.path, 'https://api.invalid');
  const parts = url.pathname.split('/').filter(Boolean);
  let group: string;
  let rest: string[];
  if (parts[0] === 'api') {
    group = '';
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length > 3) {
    group = parts[1] as string;
    rest = parts.slice(3);
  } else {
    return `${request.method.toLowerCase()} ${url.pathname}`;
  }
  if (rest[0] === 'namespaces' && rest.length >= 3) rest = rest.slice(2);
  const [resource, name, subresource] = rest;
  const watch = ['true', '1'].includes(url.searchParams.get('watch') ?? '');
  const verb =
    {
      GET: watch ? 'watch' : name ? 'get' : 'list',
      POST: 'create',
      PUT: 'update',
      PATCH: 'patch',
      DELETE: name ? 'delete' : 'deletecollection',
    }[request.method] ?? request.method.toLowerCase();
  const full = `${resource}${subresource ? `/${subresource}` : ''}`;
  return `${verb} ${group ? `${full}.${group}` : full}`;
}

/** Every permission the rules grant, in the form permissionOf uses. */
function granted(rules: readonly V1PolicyRule[]): string[] {
  return rules.flatMap((rule) =>
    (rule.apiGroups ?? []).flatMap((group) =>
      (rule.resources ?? []).flatMap((resource) =>
        (rule.verbs ?? []).map((verb) => `${verb} ${group ? `${resource}.${group}` : resource}`),
      ),
    ),
  );
}

const sorted = (values: Iterable<string>) => [...new Set(values)].sort();

function appDeployment(namespace: string): V1Deployment {
  const labels = { 'greenlight.dev/app': 'api', 'greenlight.dev/color': 'blue' };
  return {
    metadata: { name: 'api-blue', namespace, labels },
    spec: {
      replicas: 2,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        // A tag `latest` and no resources: findings the audit must report under either identity.
        spec: { containers: [{ name: 'api', image: `${env.TESTENV_REGISTRY}/shop/api:latest` }] },
      },
    },
  };
}

let ns: TestNamespace;
let proxy: PrivateProxy;
let auditorKubeconfig: string;
const clusterObjects: string[] = [];

beforeAll(async () => {
  proxy = await startPrivateProxy();
  ns = await createTestNamespace('auditor-rbac', admin);
  const namespace = ns.name;
  await apps.createNamespacedDeployment({ namespace, body: appDeployment(namespace) });
  await core.createNamespacedService({
    namespace,
    body: {
      metadata: { name: 'api', namespace },
      spec: {
        selector: { 'greenlight.dev/app': 'api', 'greenlight.dev/color': 'blue' },
        ports: [{ port: 80 }],
      },
    },
  });
  const at = new Date().toISOString();
  await core.createNamespacedConfigMap({
    namespace,
    body: {
      metadata: { name: recordName('api', 'staging'), namespace, labels: recordLabels('api', 'staging') },
      data: encodeRecord({
        app: 'api',
        environment: 'staging',
        namespace,
        historyLimit: 10,
        revisions: [
          {
            revision: 1,
            color: 'blue',
            status: 'active',
            deployment: 'api-blue',
            images: [
              {
                repository: `${env.TESTENV_REGISTRY}/shop/api`,
                reference: `${env.TESTENV_REGISTRY}/shop/api:latest`,
              },
            ],
            createdAt: at,
            updatedAt: at,
            promotedAt: at,
            ready: true,
            gates: [],
          },
        ],
      }),
    },
  });
  // Neither of these is the audit's business: a plain ConfigMap (not listed: the audit selects records by label)
  // and a Secret the auditor must not be able to read.
  await core.createNamespacedConfigMap({
    namespace,
    body: { metadata: { name: 'api-settings', namespace }, data: { mode: 'fast' } },
  });
  await core.createNamespacedSecret({
    namespace,
    body: { metadata: { name: 'api-token', namespace }, stringData: { token: 'not-for-auditors' } },
  });
  // Findings depend on the pods: wait until both exist and are ready, so every run sees the same objects.
  await watchUntil(
    admin,
    { path: `/apis/apps/v1/namespaces/${namespace}/deployments`, fieldSelector: 'metadata.name=api-blue' },
    (deployments) =>
      [...(deployments.values() as Iterable<V1Deployment>)].some((d) => d.status?.readyReplicas === 2)
        ? true
        : undefined,
    { timeoutMs: 60_000, what: 'Deployment api-blue to be ready' },
  );
  auditorKubeconfig = await serviceAccountKubeconfig(namespace, 'auditor', roleYaml);
}, 120_000);

afterAll(async () => {
  for (const name of clusterObjects) {
    await rbac.deleteClusterRoleBinding({ name }).catch(() => undefined);
    await rbac.deleteClusterRole({ name }).catch(() => undefined);
  }
  await ns?.delete();
  await proxy?.close();
});

describe('audit with a ServiceAccount bound to rbac/auditor-role.yaml', () => {
  it('is a read-only Role of list rules, without Secrets', () => {
    expect(role.kind).toBe('Role');
    expect(role.metadata?.name).toBe('greenlight-auditor');
    const permissions = granted(role.rules ?? []);
    expect(permissions.every((permission) => permission.startsWith('list '))).toBe(true);
    expect(permissions.some((permission) => permission.includes('secrets'))).toBe(false);
    expect(role.rules?.some((rule) => rule.resources?.some((r) => r.includes('*')))).toBe(false);
  });

  it('audits as with admin, and the Role grants exactly the requests the audit makes', async () => {
    await proxy.resetStats();
    const asAuditor = await runAudit({
      namespaces: ns.name,
      kubeconfig: withServer(auditorKubeconfig, proxy.server),
    });
    const auditorRequests = (await proxy.stats()).recent;
    expect(asAuditor.outputs, asAuditor.lines.join('\n')).toBeDefined();

    await proxy.resetStats();
    const asAdmin = await runAudit({ namespaces: ns.name, kubeconfig: proxy.kubeconfig });
    const adminRequests = (await proxy.stats()).recent;
    expect(asAdmin.outputs, asAdmin.lines.join('\n')).toBeDefined();

    // The same report under both identities, and it has findings on the app (the tag `latest`, no resources).
    const fingerprints = (report: Report | undefined) =>
      sorted((report?.findings ?? []).map((f) => f.fingerprint));
    expect(fingerprints(asAuditor.report)).toEqual(fingerprints(asAdmin.report));
    const counts = (outputs: Record<string, string> | undefined) => [
      outputs?.findings,
      outputs?.errors,
      outputs?.warnings,
    ];
    expect(counts(asAuditor.outputs)).toEqual(counts(asAdmin.outputs));
    const onApp = (asAuditor.report?.findings ?? []).filter((f) => f.object.name === 'api-blue');
    expect(onApp.map((f) => f.ruleId)).toEqual(expect.arrayContaining(['GL-IMG-001', 'GL-RES-001']));
    expect(Number(asAuditor.outputs?.findings)).toBeGreaterThan(0);
    // The version came from the server, read by the ServiceAccount.
    expect(asAuditor.lines.some((line) => line.includes(`(Kubernetes ${env.TESTENV_K8S_VERSION})`))).toBe(
      true,
    );

    // Every request the ServiceAccount made was answered 200, and they were the admin run's requests.
    expect(auditorRequests.filter((r) => r.status !== 200)).toEqual([]);
    const auditorPermissions = sorted(auditorRequests.map(permissionOf));
    expect(auditorPermissions).toEqual(sorted(adminRequests.map(permissionOf)));
    // Resource requests match the Role's grants one for one: nothing granted is unused, nothing used is missing.
    // The only other request is GET /version, which the Role does not (and cannot) grant.
    const nonResource = auditorPermissions.filter((p) => p.includes('/'));
    expect(nonResource).toEqual(['get /version']);
    expect(auditorPermissions.filter((p) => !p.includes('/'))).toEqual(sorted(granted(role.rules ?? [])));
    // Only the release record's ConfigMaps were asked for.
    const configMapLists = auditorRequests.filter((r) => permissionOf(r) === 'list configmaps');
    expect(configMapLists.length).toBeGreaterThan(0);
    for (const r of configMapLists)
      expect(new URL(r.path, 'https://api.invalid').searchParams.get('labelSelector')).toBe(
        'app.kubernetes.io/managed-by=greenlight',
      );
  });

  it('reads /version through the default ClusterRoles, not through the Role', async () => {
    // Two bootstrap ClusterRoles grant GET /version: system:public-info-viewer to every identity, authenticated or
    // not, and system:discovery to every authenticated one.
    for (const [name, groups] of [
      ['system:public-info-viewer', ['system:authenticated', 'system:unauthenticated']],
      ['system:discovery', ['system:authenticated']],
    ] as const) {
      const clusterRole = await rbac.readClusterRole({ name });
      expect(
        clusterRole.rules?.some((r) => r.nonResourceURLs?.includes('/version') && r.verbs.includes('get')),
      ).toBe(true);
      const binding = await rbac.readClusterRoleBinding({ name });
      expect(binding.roleRef).toMatchObject({ kind: 'ClusterRole', name });
      expect(sorted((binding.subjects ?? []).filter((s) => s.kind === 'Group').map((s) => s.name))).toEqual(
        sorted(groups),
      );
    }
    const authz = admin.makeApiClient(AuthorizationV1Api);
    const mayReadVersion = async (user: string, groups: string[]) =>
      (
        await authz.createSubjectAccessReview({
          body: { spec: { user, groups, nonResourceAttributes: { path: '/version', verb: 'get' } } },
        })
      ).status;
    const user = `system:serviceaccount:${ns.name}:auditor`;
    const asAuditor = await mayReadVersion(user, [
      'system:serviceaccounts',
      `system:serviceaccounts:${ns.name}`,
      'system:authenticated',
    ]);
    expect(asAuditor?.allowed).toBe(true);
    expect(asAuditor?.reason).toMatch(/ClusterRole "system:(public-info-viewer|discovery)"/);
    // system:public-info-viewer grants it on its own: system:discovery does not cover an anonymous request.
    const anonymous = await mayReadVersion('system:anonymous', ['system:unauthenticated']);
    expect(anonymous?.allowed).toBe(true);
    expect(anonymous?.reason).toContain('ClusterRole "system:public-info-viewer"');
    // And the ServiceAccount reads it.
    const version = await clientFor(auditorKubeconfig).makeApiClient(VersionApi).getCode();
    expect(version.gitVersion).toBe(env.TESTENV_K8S_VERSION);
  });

  it('refuses writes, reads by name, watches and Secrets to the ServiceAccount', async () => {
    const namespace = ns.name;
    const kc = clientFor(auditorKubeconfig);
    const asCore = kc.makeApiClient(CoreV1Api);
    const asApps = kc.makeApiClient(AppsV1Api);
    const refusals: [string, () => Promise<unknown>][] = [
      ['list secrets', () => asCore.listNamespacedSecret({ namespace })],
      ['get secrets', () => asCore.readNamespacedSecret({ name: 'api-token', namespace })],
      [
        'create configmaps',
        () =>
          asCore.createNamespacedConfigMap({
            namespace,
            body: { metadata: { name: 'written-by-auditor', namespace } },
          }),
      ],
      [
        'patch services',
        () =>
          asCore.patchNamespacedService({
            name: 'api',
            namespace,
            body: [{ op: 'replace', path: '/spec/selector/greenlight.dev~1color', value: 'green' }],
          }),
      ],
      ['delete pods', () => asCore.deleteCollectionNamespacedPod({ namespace })],
      [
        'update deployments/scale',
        () =>
          asApps.replaceNamespacedDeploymentScale({
            name: 'api-blue',
            namespace,
            body: { metadata: { name: 'api-blue', namespace }, spec: { replicas: 0 } },
          }),
      ],
      ['get deployments', () => asApps.readNamespacedDeployment({ name: 'api-blue', namespace })],
      [
        'watch deployments',
        () => asApps.listNamespacedDeployment({ namespace, watch: true, timeoutSeconds: 1 }),
      ],
    ];
    const outcomes: Record<string, number | string> = {};
    for (const [what, call] of refusals) {
      try {
        await call();
        outcomes[what] = 'allowed';
      } catch (error) {
        outcomes[what] = (error as { code?: number }).code ?? String(error);
      }
    }
    expect(outcomes).toEqual(Object.fromEntries(refusals.map(([what]) => [what, 403])));
    // Nothing changed.
    const scale = await apps.readNamespacedDeploymentScale({ name: 'api-blue', namespace });
    expect(scale.spec?.replicas).toBe(2);
    const service = await core.readNamespacedService({ name: 'api', namespace });
    expect(service.spec?.selector?.['greenlight.dev/color']).toBe('blue');
    // The proxy keeps the ServiceAccount's identity: the API server names it in the refusal.
    const viaProxy = clientFor(withServer(auditorKubeconfig, proxy.server)).makeApiClient(CoreV1Api);
    const refused = await viaProxy.listNamespacedSecret({ namespace }).catch((error: unknown) => error);
    expect((refused as { code?: number }).code).toBe(403);
    const body = (refused as { body?: unknown }).body;
    expect(typeof body === 'string' ? body : JSON.stringify(body)).toContain(
      `system:serviceaccount:${namespace}:auditor`,
    );
  });

  it('names the missing verb and resource when the Role lacks a rule', async () => {
    const limited = parse(roleYaml) as V1Role;
    for (const rule of limited.rules ?? [])
      rule.resources = rule.resources?.filter((resource) => resource !== 'ingresses');
    const kubeconfig = await serviceAccountKubeconfig(ns.name, 'limited-auditor', JSON.stringify(limited));
    const { outputs, lines, report } = await runAudit({ namespaces: ns.name, kubeconfig });
    expect(outputs).toBeUndefined();
    expect(report).toBeUndefined();
    const failure = lines.find((line) => line.includes('permission denied'));
    expect(failure).toContain(`list ingresses in namespace ${ns.name} failed`);
    expect(failure).toContain(
      `system:serviceaccount:${ns.name}:limited-auditor may not list ingresses.networking.k8s.io in namespace "${ns.name}"`,
    );
    expect(failure).toContain('rbac/auditor-role.yaml');
  });

  it('audits all namespaces only with the same rules in a ClusterRole', async () => {
    // The namespaced Role alone: the first cluster-wide list is refused, and said to be cluster-wide.
    const refused = await runAudit({ kubeconfig: auditorKubeconfig });
    expect(refused.outputs).toBeUndefined();
    expect(refused.lines.find((line) => line.includes('permission denied'))).toContain(
      `system:serviceaccount:${ns.name}:auditor may not list pods cluster-wide`,
    );

    // The same rules as a ClusterRole, bound cluster-wide to a ServiceAccount that has no Role of its own.
    const name = `greenlight-auditor-${ns.name}`;
    clusterObjects.push(name);
    await rbac.createClusterRole({ body: { metadata: { name }, rules: role.rules } });
    await rbac.createClusterRoleBinding({
      body: {
        metadata: { name },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
        subjects: [{ kind: 'ServiceAccount', name: 'cluster-auditor', namespace: ns.name }],
      },
    });
    const kubeconfig = await serviceAccountKubeconfig(ns.name, 'cluster-auditor', []);
    await waitForClusterGrant(`system:serviceaccount:${ns.name}:cluster-auditor`, ns.name);
    const everywhere = await runAudit({ kubeconfig });
    expect(everywhere.outputs, everywhere.lines.join('\n')).toBeDefined();
    expect(everywhere.lines.some((line) => line.includes('in all namespaces'))).toBe(true);
    const ours = (everywhere.report?.findings ?? []).filter((f) => f.object.namespace === ns.name);
    expect(ours.map((f) => f.ruleId)).toEqual(expect.arrayContaining(['GL-IMG-001', 'GL-RES-001']));
  });
});

/** Waits until the RBAC authorizer has seen the ClusterRoleBinding (it learns of bindings through an informer). */
async function waitForClusterGrant(user: string, namespace: string): Promise<void> {
  const authz = admin.makeApiClient(AuthorizationV1Api);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const review = await authz.createSubjectAccessReview({
      body: {
        spec: {
          user,
          groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
          resourceAttributes: { verb: 'list', resource: 'pods' },
        },
      },
    });
    if (review.status?.allowed) return;
    if (Date.now() > deadline) throw new Error(`${user} was not granted list pods cluster-wide within 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
