// deploy-bluegreen given `images` by tag: each is resolved to its digest in testenv's real registries (plain, and
// behind basic auth with the login from a Docker config) before any call to the cluster, and the deploy runs and
// records `name@sha256:...`. A tag that cannot be resolved fails the step naming the input and the reference, and
// a private fault proxy in front of the API server proves that no request reached the cluster.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, type PrivateProxy, startPrivateProxy } from '../../../e2e/support/proxy.ts';
import { createTestNamespace, loadEnv, type TestNamespace } from '../../../testenv/src/index.ts';
import { MANIFEST_ACCEPT } from '../../src/image/manifest.ts';
import { manifestWorkspace, runDeployCommand } from './command-run.ts';
import { testKube } from './fixtures.ts';

const env = loadEnv();
const kube = testKube();
const plain = `${env.TESTENV_REGISTRY}/testenv/base`;
const behindAuth = `${env.TESTENV_REGISTRY_AUTH}/testenv/base`;

/** Docker config folders this file made (one holds the test registry's password), removed at the end. */
const configDirs: string[] = [];

/** A Docker config folder whose `auths` log in to the auth registry as `user` with `password`. */
function dockerConfig(user: string, password: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'greenlight-docker-config-'));
  configDirs.push(dir);
  const auth = Buffer.from(`${user}:${password}`).toString('base64');
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({ auths: { [env.TESTENV_REGISTRY_AUTH]: { auth } } }),
    { mode: 0o600 },
  );
  return dir;
}

/** The digest the auth registry reports for the base image's tag, read with plain fetch (not the product's client). */
async function authRegistryDigest(): Promise<string> {
  const login = Buffer.from(`${env.TESTENV_REGISTRY_USER}:${env.TESTENV_REGISTRY_PASSWORD}`).toString(
    'base64',
  );
  const response = await fetch(`http://${env.TESTENV_REGISTRY_AUTH}/v2/testenv/base/manifests/1`, {
    method: 'HEAD',
    headers: { accept: MANIFEST_ACCEPT, authorization: `Basic ${login}` },
  });
  expect(response.status).toBe(200);
  return response.headers.get('docker-content-digest') as string;
}

describe('deploy-bluegreen resolves images given by tag', () => {
  let ns: TestNamespace;
  let workspace: string;
  let proxy: PrivateProxy;
  /** A loopback port nothing listens on (fetch refuses some well-known ones, such as 9, before connecting). */
  let closed = 0;
  const noLogin = mkdtempSync(join(tmpdir(), 'greenlight-docker-config-'));
  const goodLogin = dockerConfig(env.TESTENV_REGISTRY_USER, env.TESTENV_REGISTRY_PASSWORD);
  const inputs = (images: string) => ({
    app: 'web',
    namespace: ns.name,
    environment: 'staging',
    manifests: 'manifests/web.yaml',
    images,
    timeout: '60s',
  });
  /** The process environment of a run: the workspace, and no login but the given Docker config. */
  const runEnv = (dockerConfigDir: string, kubeconfig = env.KUBECONFIG) => ({
    KUBECONFIG: kubeconfig,
    GITHUB_WORKSPACE: workspace,
    DOCKER_CONFIG: dockerConfigDir,
    REGISTRY_AUTH_FILE: undefined,
  });

  beforeAll(async () => {
    ns = await createTestNamespace('deploy-tags');
    workspace = manifestWorkspace('web', { plain: `${plain}:latest`, private: `${behindAuth}:latest` });
    proxy = await startPrivateProxy();
    closed = await freePort();
  });
  afterAll(async () => {
    for (const dir of [noLogin, ...configDirs]) rmSync(dir, { recursive: true, force: true });
    await proxy?.close();
    await ns?.delete();
  });

  it('pins a tag of the plain registry to its digest, deploys that digest and records it', async () => {
    const run = await runDeployCommand(inputs(`${plain}:1`), runEnv(noLogin));
    expect(run.outputs, run.lines.join('\n')).toBeDefined();
    const pinned = `${plain}@${env.TESTENV_BASE_IMAGE_DIGEST}`;
    expect(run.lines).toContain(`resolved ${plain}:1 to ${pinned}`);
    const blue = await kube.apps.readNamespacedDeployment({ name: 'web-blue', namespace: ns.name });
    expect(blue.spec?.template.spec?.containers.map((c) => c.image)).toEqual([
      pinned,
      `${behindAuth}:latest`,
    ]);
    const release = JSON.parse(run.outputs?.release ?? '{}');
    expect(release.images).toContainEqual({
      repository: plain,
      digest: env.TESTENV_BASE_IMAGE_DIGEST,
      reference: pinned,
    });
  });

  it('reads a tag behind basic auth with the Docker config login, beside a tag of the plain registry', async () => {
    const digest = await authRegistryDigest();
    const run = await runDeployCommand(inputs(`${plain}:1\n${behindAuth}:1`), runEnv(goodLogin));
    expect(run.outputs, run.lines.join('\n')).toBeDefined();
    expect(run.lines).toContain(`resolved ${behindAuth}:1 to ${behindAuth}@${digest}`);
    const green = await kube.apps.readNamespacedDeployment({ name: 'web-green', namespace: ns.name });
    expect(green.spec?.template.spec?.containers.map((c) => c.image)).toEqual([
      `${plain}@${env.TESTENV_BASE_IMAGE_DIGEST}`,
      `${behindAuth}@${digest}`,
    ]);
    const release = JSON.parse(run.outputs?.release ?? '{}');
    expect(release.images).toContainEqual({
      repository: behindAuth,
      digest,
      reference: `${behindAuth}@${digest}`,
    });
    // The same tags again resolve to the same digests: the same release, so the revision is reused.
    const again = await runDeployCommand(inputs(`${plain}:1\n${behindAuth}:1`), runEnv(goodLogin));
    expect(again.outputs, again.lines.join('\n')).toMatchObject({ color: 'green', revision: '2' });
  });

  it('leaves a reference with a digest as given, without asking any registry', async () => {
    // A port nothing listens on: a request would fail the step with "connection refused". The unknown context
    // stops the step after the images, before its first call to the cluster.
    const image = `127.0.0.1:${closed}/testenv/base@sha256:${'d'.repeat(64)}`;
    const run = await runDeployCommand({ ...inputs(image), context: 'no-such-context' }, runEnv(noLogin));
    expect(run.outputs).toBeUndefined();
    expect(run.errors.join('\n')).toMatch(/no context "no-such-context"/);
    expect(run.lines.join('\n')).not.toMatch(/resolved|connection refused/);
  });

  const failures: [string, () => string, RegExp, () => string][] = [
    [
      'a tag the registry does not have',
      () => `${plain}:no-such-tag`,
      /has no tag "no-such-tag"/,
      () => noLogin,
    ],
    ['no tag, and no latest tag', () => plain, /has no tag "latest"/, () => noLogin],
    [
      'a registry nobody listens on',
      () => `127.0.0.1:${closed}/testenv/base:1`,
      /connection refused/,
      () => noLogin,
    ],
    [
      'a registry behind auth without a login',
      () => `${behindAuth}:1`,
      /requires credentials and anonymous access has none it accepts \(HTTP 401\)/,
      () => noLogin,
    ],
    [
      'a registry behind auth refusing the login',
      () => `${behindAuth}:1`,
      /refused user greenlight \(from docker config .*\): HTTP 401/,
      () => dockerConfig(env.TESTENV_REGISTRY_USER, 'wrong-password'),
    ],
  ];
  it.each(failures)(
    'fails before any cluster call for %s, naming the input and the reference',
    async (_name, image, reason, login) => {
      await proxy.resetStats();
      const run = await runDeployCommand(inputs(image()), runEnv(login(), proxy.kubeconfigPath));
      expect(run.outputs).toBeUndefined();
      expect(run.errors).toHaveLength(1);
      expect(run.errors[0]).toContain('resolve input `images` failed on image');
      expect(run.errors[0]).toContain(image());
      expect(run.errors[0]).toMatch(reason);
      expect((await proxy.stats()).total).toBe(0);
    },
  );

  it('names every reference it could not resolve in one error', async () => {
    await proxy.resetStats();
    const run = await runDeployCommand(
      inputs(`${plain}:missing-one\n${plain}:1\n127.0.0.1:${closed}/other/app:2`),
      runEnv(noLogin, proxy.kubeconfigPath),
    );
    expect(run.outputs).toBeUndefined();
    expect(run.errors[0]).toMatch(
      new RegExp(
        `resolve input \`images\` failed: ${plain}:missing-one \\(.*has no tag "missing-one"\\); 127\\.0\\.0\\.1:${closed}/other/app:2 \\(connection refused`,
      ),
    );
    expect((await proxy.stats()).total).toBe(0);
  });
});
