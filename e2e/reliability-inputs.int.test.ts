// Reliability: malformed inputs through the committed bundles. Each case must fail with an error that names the
// input (or the file, reference or server it points at) and make no write to the cluster: the bundle talks to
// Kubernetes through a private fault proxy, which counts every request it forwards. At the end every log the
// suite produced is scanned for the test secrets.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestNamespace,
  loadEnv,
  serviceAccountKubeconfig,
  type TestNamespace,
} from '../testenv/src/index.ts';
import { adminKube, appImage, deployInputs, promoteInputs, step, workspaceWith } from './support/app.ts';
import { freePort, type PrivateProxy, startPrivateProxy, writes } from './support/proxy.ts';
import { scanForSecrets, testSecrets } from './support/secrets.ts';

interface Case {
  name: string;
  action: 'deploy-bluegreen' | 'promote' | 'build-image' | 'audit';
  inputs: (app: string, namespace: string) => Record<string, string>;
  /** What the error must name: the input, or the file, reference or server the input points at. */
  names: RegExp;
  /** Environment for the bundle on top of the proxy's KUBECONFIG. */
  env?: Record<string, string>;
}

const env = loadEnv();
// The registry login goes to every build-image case, so the scan below has a password to look for.
const registryLogin = { username: env.TESTENV_REGISTRY_USER, password: env.TESTENV_REGISTRY_PASSWORD };
// A ServiceAccount kubeconfig (a token) given as the `kubeconfig` input, filled in before the table runs.
let tokenKubeconfig = '';
const D = (app: string, ns: string) => deployInputs(app, ns, 'a', 'shop');
const P = (app: string, ns: string) => promoteInputs(app, ns);
const gate = (yaml: string) => (app: string, ns: string) => ({ ...D(app, ns), 'health-checks': yaml });
const unreachable = (text: string) => text.replace(/^(\s*server:\s*).*$/m, '$1"https://127.0.0.1:9"');
// A loopback port nothing listens on, for an image registry that cannot be reached (fetch refuses port 9 itself).
let closedPort = 0;
// A Docker config folder without any login.
const noLogin = mkdtempSync(join(tmpdir(), 'greenlight-no-login-'));

const cases: Case[] = [
  // deploy-bluegreen
  {
    name: 'timeout in words',
    action: 'deploy-bluegreen',
    inputs: (a, n) => ({ ...D(a, n), timeout: '10 minutes' }),
    names: /`timeout`.*"10 minutes"/,
  },
  {
    name: 'timeout with an unknown unit',
    action: 'deploy-bluegreen',
    inputs: (a, n) => ({ ...D(a, n), timeout: '5x' }),
    names: /`timeout`.*"5x"/,
  },
  {
    name: 'negative timeout',
    action: 'deploy-bluegreen',
    inputs: (a, n) => ({ ...D(a, n), timeout: '-30s' }),
    names: /`timeout`.*"-30s"/,
  },
  {
    name: 'app not a DNS label',
    action: 'deploy-bluegreen',
    inputs: (a, n) => ({ ...D(a, n), app: 'Shop_App' }),
    names: /`app`.*"Shop_App"/,
  },
  {
    name: 'namespace missing',
    action: 'deploy-bluegreen',
    inputs: (a, n) => ({ ...D(a, n), namespace: '' }),
    names: /`namespace` is required/,
  },
  {
    name: 'environment with a space',
    action: 'deploy-bluegreen',
    inputs: (a, n) => ({ ...D(a, n), environment: 'prod eu' }),
    names: /`environment`.*"prod eu"/,
  },
  {
    name: 'promote mode unknown',
    action: 'deploy-bluegreen',
    inputs: (a, n) => ({ ...D(a, n), promote: 'sometimes' }),
    names: /`promote`.*"sometimes"/,
  },
  {
    name: 'keep-failed not a boolean',
    action: 'deploy-bluegreen',
    inputs: (a, n) => ({ ...D(a, n), 'keep-failed': 'maybe' }),
    names: /`keep-failed`.*"maybe"/,
  },
  {
    name: 'health-checks not YAML',
    action: 'deploy-bluegreen',
    inputs: gate('- http: { url: [oops'),
    names: /`health-checks` must be valid YAML/,
  },
  {
    name: 'health-checks not a list',
    action: 'deploy-bluegreen',
    inputs: gate('http: { url: "http://x" }'),
    names: /`health-checks` must be a YAML list/,
  },
  {
    name: 'unknown gate kind',
    action: 'deploy-bluegreen',
    inputs: gate('- smoke: {}'),
    names: /health-checks\[0\]: unknown gate "smoke"/,
  },
  {
    name: 'gate latency not a duration',
    action: 'deploy-bluegreen',
    inputs: gate('- http: { url: "http://x", latency: fast }'),
    names: /health-checks\[0\]\.http: `latency`.*"fast"/,
  },
  {
    name: 'gate max not a number',
    action: 'deploy-bluegreen',
    inputs: gate('- prometheus: { query: up, max: high }'),
    names: /health-checks\[0\]\.prometheus: `max`.*"high"/,
  },
  {
    name: 'gate successes zero',
    action: 'deploy-bluegreen',
    inputs: gate('- http: { url: "http://x", successes: 0 }'),
    names: /health-checks\[0\]\.http: `successes`/,
  },
  {
    name: 'gate field unknown',
    action: 'deploy-bluegreen',
    inputs: gate('- http: { url: "http://x", retries: 3 }'),
    names: /unknown field `retries`/,
  },
  {
    name: 'gate status not HTTP',
    action: 'deploy-bluegreen',
    inputs: gate('- http: { url: "http://x", status: 999 }'),
    names: /`status`.*"999"/,
  },
  {
    name: 'image reference with spaces',
    action: 'deploy-bluegreen',
    inputs: (a, n) => ({ ...D(a, n), images: 'Not A Reference!!' }),
    names: /image reference "Not A Reference!!"/,
  },
  {
    name: 'image digest too short',
    action: 'deploy-bluegreen',
    inputs: (a, n) => ({ ...D(a, n), images: `${appImage(a, 'a').split('@')[0]}@sha256:abc` }),
    names: /digest "sha256:abc"/,
  },
  {
    name: 'image in upper case',
    action: 'deploy-bluegreen',
    inputs: (a, n) => ({ ...D(a, n), images: `${env.TESTENV_REGISTRY}/Shop/API@sha256:${'a'.repeat(64)}` }),
    names: /image reference ".*Shop\/API@sha256/,
  },
  {
    name: 'image tag the registry does not have',
    action: 'deploy-bluegreen',
    inputs: (a, n) => ({ ...D(a, n), images: `${env.TESTENV_REGISTRY}/reliability/shop:9.9.9` }),
    names: /input `images`.*reliability\/shop:9\.9\.9.*has no tag "9\.9\.9"/,
  },
  {
    name: 'image tag on a registry that cannot be reached',
    action: 'deploy-bluegreen',
    inputs: (a, n) => ({ ...D(a, n), images: `127.0.0.1:${closedPort}/reliability/shop:1.0` }),
    names: /input `images`.*127\.0\.0\.1:\d+\/reliability\/shop:1\.0.*connection refused/,
  },
  {
    name: 'image tag behind auth without a login',
    action: 'deploy-bluegreen',
    inputs: (a, n) => ({ ...D(a, n), images: `${env.TESTENV_REGISTRY_AUTH}/testenv/base:1` }),
    env: { DOCKER_CONFIG: noLogin },
    names: /input `images`.*testenv\/base:1.*requires credentials/,
  },
  {
    name: 'set with manifests',
    action: 'deploy-bluegreen',
    inputs: (a, n) => ({ ...D(a, n), set: 'replicas=5' }),
    names: /input `set` applies to `chart` only/,
  },
  {
    name: 'values-files with manifests',
    action: 'deploy-bluegreen',
    inputs: (a, n) => ({ ...D(a, n), 'values-files': 'values/prod.yaml' }),
    names: /input `values-files` applies to `chart` only/,
  },
  {
    name: 'chart-version with manifests',
    action: 'deploy-bluegreen',
    inputs: (a, n) => ({ ...D(a, n), 'chart-version': '1.2.3' }),
    names: /input `chart-version` applies to `chart` only/,
  },
  {
    name: 'gate placeholder unknown',
    action: 'deploy-bluegreen',
    inputs: gate('- http: { url: "http://x/{{colour}}" }'),
    names: /health-checks\[0\]\.http: unknown placeholder \{\{colour\}\}.*\{\{color\}\}/,
  },
  {
    name: 'deploy verify-for in words',
    action: 'deploy-bluegreen',
    inputs: (a, n) => ({ ...D(a, n), promote: 'auto', 'verify-for': '1 minute' }),
    names: /`verify-for`.*"1 minute"/,
  },
  {
    name: 'verify-for with promote manual',
    action: 'deploy-bluegreen',
    inputs: (a, n) => ({ ...D(a, n), promote: 'manual', 'verify-for': '5m' }),
    names: /input `verify-for` \(5m00s\) applies to `promote: auto` only/,
  },
  {
    name: 'scale-down-delay with promote manual',
    action: 'deploy-bluegreen',
    inputs: (a, n) => ({ ...D(a, n), 'scale-down-delay': '10s' }),
    names: /input `scale-down-delay` \(10s\) applies to `promote: auto` only/,
  },
  {
    name: 'manifests file missing',
    action: 'deploy-bluegreen',
    inputs: (a, n) => ({ ...D(a, n), manifests: 'manifests/missing.yaml' }),
    names: /manifests\/missing\.yaml.*no such file/,
  },
  {
    name: 'manifests not YAML',
    action: 'deploy-bluegreen',
    inputs: (a, n) => ({ ...D(a, n), manifests: 'manifests/broken.yaml' }),
    names: /manifests\/broken\.yaml.*not valid YAML at line/,
  },
  {
    name: 'chart and manifests both',
    action: 'deploy-bluegreen',
    inputs: (a, n) => ({ ...D(a, n), chart: 'charts/shop' }),
    names: /either `chart` or `manifests`/,
  },
  {
    name: 'neither chart nor manifests',
    action: 'deploy-bluegreen',
    inputs: (a, n) => ({ ...D(a, n), manifests: '' }),
    names: /give a `chart` or `manifests`/,
  },
  {
    name: 'chart folder missing',
    action: 'deploy-bluegreen',
    inputs: (a, n) => ({ ...D(a, n), manifests: '', chart: 'charts/nope' }),
    names: /input `chart`: charts\/nope is neither/,
  },
  {
    name: 'kubeconfig input not YAML',
    action: 'deploy-bluegreen',
    inputs: (a, n) => ({ ...D(a, n), kubeconfig: 'clusters: [oops' }),
    names: /the `kubeconfig` input could not be read/,
  },
  {
    name: 'KUBECONFIG file missing',
    action: 'deploy-bluegreen',
    inputs: D,
    env: { KUBECONFIG: '/nonexistent/kubeconfig' },
    names: /KUBECONFIG \(\/nonexistent\/kubeconfig\) could not be read/,
  },
  {
    name: 'context unknown',
    action: 'deploy-bluegreen',
    inputs: (a, n) => ({ ...D(a, n), context: 'no-such-context' }),
    names: /no context "no-such-context"/,
  },
  {
    name: 'context unknown in a kubeconfig input',
    action: 'promote',
    inputs: (a, n) => ({ ...P(a, n), kubeconfig: tokenKubeconfig, context: 'prod' }),
    names: /the `kubeconfig` input has no context "prod"/,
  },
  {
    name: 'cluster unreachable',
    action: 'deploy-bluegreen',
    inputs: D,
    env: { KUBECONFIG: '' },
    names: /cannot reach the API server at https:\/\/127\.0\.0\.1:9/,
  },
  // promote
  {
    name: 'promote action unknown',
    action: 'promote',
    inputs: (a, n) => ({ ...P(a, n), action: 'flip' }),
    names: /`action`.*"flip"/,
  },
  {
    name: 'verify-for in words',
    action: 'promote',
    inputs: (a, n) => ({ ...P(a, n), 'verify-for': '1 minute' }),
    names: /`verify-for`.*"1 minute"/,
  },
  {
    name: 'scale-down-delay in words',
    action: 'promote',
    inputs: (a, n) => ({ ...P(a, n), 'scale-down-delay': 'soon' }),
    names: /`scale-down-delay`.*"soon"/,
  },
  {
    name: 'route unknown',
    action: 'promote',
    inputs: (a, n) => ({ ...P(a, n), route: 'gateway' }),
    names: /`route`.*"gateway"/,
  },
  {
    name: 'keep-previous not a boolean',
    action: 'promote',
    inputs: (a, n) => ({ ...P(a, n), 'keep-previous': 'perhaps' }),
    names: /`keep-previous`.*"perhaps"/,
  },
  {
    name: 'promote timeout malformed',
    action: 'promote',
    inputs: (a, n) => ({ ...P(a, n), timeout: '1h30' }),
    names: /`timeout`.*"1h30"/,
  },
  {
    name: 'promote gate without url',
    action: 'promote',
    inputs: (a, n) => ({ ...P(a, n), 'health-checks': '- http: { status: 200 }' }),
    names: /health-checks\[0\]\.http.*url/,
  },
  {
    name: 'from-environment without chart',
    action: 'promote',
    inputs: (a, n) => ({ ...P(a, n), 'from-environment': 'staging' }),
    names: /`from-environment` needs `chart`/,
  },
  {
    name: 'from-environment with rollback',
    action: 'promote',
    inputs: (a, n) => ({
      ...P(a, n),
      'from-environment': 'staging',
      chart: 'charts/shop',
      action: 'rollback',
    }),
    names: /`from-environment` works only with `action: promote`/,
  },
  {
    name: 'from-kubeconfig not YAML',
    action: 'promote',
    inputs: (a, n) => ({
      ...P(a, n),
      'from-environment': 'staging',
      chart: 'charts/shop',
      'from-kubeconfig': 'users: [',
    }),
    names: /the `kubeconfig` input could not be read/,
  },
  {
    name: 'promote on an unreachable cluster',
    action: 'promote',
    inputs: P,
    env: { KUBECONFIG: '' },
    names: /cannot reach the API server at https:\/\/127\.0\.0\.1:9/,
  },
  // build-image and audit (no cluster involved: nothing may be written anywhere)
  {
    name: 'version not semver',
    action: 'build-image',
    inputs: () => ({
      image: `${env.TESTENV_REGISTRY}/reliability/x`,
      version: '1.2',
      push: 'false',
      ...registryLogin,
    }),
    names: /1\.2/,
  },
  {
    name: 'tag rule unknown',
    action: 'build-image',
    inputs: () => ({
      image: `${env.TESTENV_REGISTRY}/reliability/x`,
      tags: 'type=bogus',
      push: 'false',
      ...registryLogin,
    }),
    names: /type=bogus|bogus/,
  },
  {
    name: 'image name invalid',
    action: 'build-image',
    inputs: () => ({ image: 'Bad Image!!', push: 'false', ...registryLogin }),
    names: /image reference "bad image!!"/i,
  },
  {
    name: 'flavor latest unknown',
    action: 'build-image',
    inputs: () => ({
      image: `${env.TESTENV_REGISTRY}/reliability/x`,
      flavor: 'latest=sometimes',
      push: 'false',
      ...registryLogin,
    }),
    names: /latest=sometimes|sometimes/,
  },
  {
    name: 'audit format unknown',
    action: 'audit',
    inputs: () => ({ path: 'manifests', format: 'xml' }),
    names: /`format`.*"xml"/,
  },
  {
    name: 'audit fail-on unknown',
    action: 'audit',
    inputs: () => ({ path: 'manifests', 'fail-on': 'critical' }),
    names: /`fail-on`.*"critical"/,
  },
  {
    name: 'audit kubernetes-version malformed',
    action: 'audit',
    inputs: () => ({ path: 'manifests', 'kubernetes-version': 'one' }),
    names: /`kubernetes-version`.*"one"/,
  },
];

describe('malformed inputs through the committed bundles', () => {
  const workers = 3;
  const proxies: PrivateProxy[] = [];
  let ns: TestNamespace;
  let workspace: string;
  const outcomes = new Map<
    string,
    { status: number; errors: string[]; writes: string[]; requests: number }
  >();

  beforeAll(async () => {
    ns = await createTestNamespace('rel-inputs');
    for (let i = 0; i < workers; i++) proxies.push(await startPrivateProxy());
    closedPort = await freePort();
    workspace = workspaceWith('shop');
    tokenKubeconfig = (
      await serviceAccountKubeconfig(ns.name, 'deployer', [
        { apiGroups: [''], resources: ['configmaps'], verbs: ['get'] },
      ])
    ).replace(/^(\s*server:\s*).*$/m, `$1"${proxies[0]?.server}"`);
    writeFileSync(join(workspace, 'manifests', 'broken.yaml'), 'kind: Deployment\nmetadata: {name: [x\n');
    // Each worker runs its share of the table one case at a time on its own proxy, so every request counted
    // belongs to the case that ran.
    const queue = cases.map((c, index) => ({ c, app: `bad${index}` }));
    await Promise.all(
      proxies.map(async (proxy) => {
        for (let next = queue.shift(); next; next = queue.shift()) {
          const { c, app } = next;
          await proxy.resetStats();
          const kubeconfigPath =
            c.env?.KUBECONFIG === ''
              ? writeTemp(workspace, `${app}.kubeconfig`, unreachable(proxy.kubeconfig))
              : proxy.kubeconfigPath;
          const result = await step(c.action, c.inputs(app, ns.name), {
            kubeconfigPath,
            workspace,
            env: { ...c.env, ...(c.env?.KUBECONFIG === '' ? { KUBECONFIG: kubeconfigPath } : {}) },
          });
          const stats = await proxy.stats();
          outcomes.set(c.name, {
            status: result.status,
            errors: result.log
              .split('\n')
              .filter((line) => line.startsWith('::error'))
              .map((line) => line.replace(/^::error[^:]*::/, '')),
            writes: writes(stats.recent).map((r) => `${r.method} ${r.path}`),
            requests: stats.total,
          });
        }
      }),
    );
  }, 240_000);

  afterAll(async () => {
    rmSync(noLogin, { recursive: true, force: true });
    for (const proxy of proxies) await proxy.close();
    await ns?.delete();
  });

  it('has at least 30 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  const check = (c: Case) => {
    const outcome = outcomes.get(c.name);
    expect(outcome, 'the case ran').toBeDefined();
    if (!outcome) return;
    expect(outcome.status, outcome.errors.join('\n')).not.toBe(0);
    expect(outcome.errors.join('\n')).toMatch(c.names);
    expect(outcome.writes).toEqual([]);
  };
  it.each(cases.map((c) => [c.name, c] as const))('%s: a clear error naming it, no write', (_name, c) =>
    check(c),
  );

  it('leaves the namespace as it was: no Deployment, Service or Lease of any case', async () => {
    const kube = adminKube();
    const [deployments, services, leases] = await Promise.all([
      kube.apps.listNamespacedDeployment({ namespace: ns.name }),
      kube.core.listNamespacedService({ namespace: ns.name }),
      kube.coordination.listNamespacedLease({ namespace: ns.name }),
    ]);
    expect(deployments.items.map((d) => d.metadata?.name)).toEqual([]);
    expect(services.items.map((s) => s.metadata?.name)).toEqual([]);
    expect(leases.items.map((l) => l.metadata?.name)).toEqual([]);
  });

  it('prints none of the test secrets in any log, summary or output', () => {
    const secrets = testSecrets([proxies[0]?.kubeconfig ?? '', tokenKubeconfig]);
    expect(secrets.map((s) => s.what)).toContain('TESTENV_REGISTRY_PASSWORD');
    expect(secrets.some((s) => s.what.startsWith('token of'))).toBe(true);
    expect(secrets.length).toBeGreaterThan(0);
    expect(scanForSecrets(secrets)).toEqual([]);
  });
});

function writeTemp(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text, { mode: 0o600 });
  return path;
}
