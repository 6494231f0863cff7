import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  credentialHelperFor,
  credentialsFromConfig,
  dockerConfigPath,
  type RegistryCredentials,
  registryHostOfKey,
  resolveCredentials,
  writeAuthFile,
  writeDockerConfigDir,
} from '../../src/image/auth.ts';

const b64 = (text: string) => Buffer.from(text).toString('base64');

const created: string[] = [];
afterAll(() => {
  for (const dir of created) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'greenlight-auth-test-'));
  created.push(dir);
  return dir;
}

/** A DOCKER_CONFIG folder holding `config`. */
function dockerConfig(config: unknown): string {
  const dir = tempDir();
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

describe('registryHostOfKey', () => {
  it.each([
    ['https://index.docker.io/v1/', 'docker.io'],
    ['index.docker.io', 'docker.io'],
    ['registry-1.docker.io', 'docker.io'],
    ['docker.io', 'docker.io'],
    ['ghcr.io', 'ghcr.io'],
    ['https://Registry.Example.com:5000/v2/', 'registry.example.com:5000'],
    ['127.0.0.1:5000', '127.0.0.1:5000'],
  ])('%s -> %s', (key, host) => {
    expect(registryHostOfKey(key)).toBe(host);
  });
});

describe('credentialsFromConfig', () => {
  const config = {
    auths: {
      'https://index.docker.io/v1/': { auth: b64('hubuser:hub:pass') },
      'ghcr.io': { username: 'octo', password: 'ghp_x' },
      'acr.example.io': { identitytoken: 'refresh-me' },
      'broken.example.io': { auth: b64('no-colon') },
    },
  };
  it.each([
    ['docker.io', { username: 'hubuser', password: 'hub:pass' }],
    ['ghcr.io', { username: 'octo', password: 'ghp_x' }],
    ['acr.example.io', { identityToken: 'refresh-me' }],
    ['broken.example.io', undefined],
    ['elsewhere.io', undefined],
  ])('%s', (registry, expected) => {
    const found = credentialsFromConfig(config, registry, 'test');
    if (expected === undefined) expect(found).toBeUndefined();
    else expect(found).toEqual({ ...expected, source: 'test' });
  });
});

describe('credentialHelperFor', () => {
  it.each([
    [{ credHelpers: { 'gcr.io': 'gcloud' }, credsStore: 'desktop' }, 'gcr.io', 'gcloud'],
    [{ credHelpers: { 'gcr.io': 'gcloud' }, credsStore: 'desktop' }, 'ghcr.io', 'desktop'],
    [{}, 'ghcr.io', undefined],
  ])('%j for %s -> %s', (config, registry, helper) => {
    expect(credentialHelperFor(config, registry)).toBe(helper);
  });
});

describe('resolveCredentials', () => {
  it('prefers the inputs', async () => {
    const env = { DOCKER_CONFIG: dockerConfig({ auths: { 'ghcr.io': { auth: b64('a:b') } } }) };
    expect(await resolveCredentials('ghcr.io', { username: 'me', password: 'pw' }, env)).toEqual({
      username: 'me',
      password: 'pw',
      source: 'inputs',
    });
  });

  it('falls back to the Docker config, naming its path', async () => {
    const dir = dockerConfig({ auths: { 'ghcr.io': { auth: b64('a:b') } } });
    const found = await resolveCredentials('ghcr.io', {}, { DOCKER_CONFIG: dir });
    expect(found).toEqual({
      username: 'a',
      password: 'b',
      source: `docker config (${join(dir, 'config.json')})`,
    });
  });

  it('then the containers auth file', async () => {
    const dir = dockerConfig({});
    const authFile = join(dir, 'auth.json');
    writeFileSync(authFile, JSON.stringify({ auths: { 'quay.io': { auth: b64('q:r') } } }));
    const found = await resolveCredentials(
      'quay.io',
      {},
      { DOCKER_CONFIG: dir, REGISTRY_AUTH_FILE: authFile },
    );
    expect(found).toMatchObject({ username: 'q', password: 'r' });
  });

  it('is anonymous when nothing is configured, also when the named helper is not installed', async () => {
    const env = {
      DOCKER_CONFIG: dockerConfig({ credsStore: 'greenlight-test-missing' }),
      PATH: '/nonexistent',
    };
    expect(await resolveCredentials('ghcr.io', {}, env)).toBeUndefined();
  });

  it.each([
    [{ password: 'pw' }, /`password` was given without `username`/],
    [{ username: 'me' }, /`username` \(me\) was given without `password`/],
  ])('rejects half a login %j', async (inputs, message) => {
    await expect(resolveCredentials('ghcr.io', inputs, { DOCKER_CONFIG: tempDir() })).rejects.toThrow(
      message,
    );
  });

  it('names a malformed Docker config', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'config.json'), '{ not json');
    await expect(resolveCredentials('ghcr.io', {}, { DOCKER_CONFIG: dir })).rejects.toThrow(
      new RegExp(`read the Docker config failed on file ${join(dir, 'config.json')}`),
    );
  });

  it('uses HOME when DOCKER_CONFIG is unset', () => {
    expect(dockerConfigPath({ HOME: '/home/runner' })).toBe('/home/runner/.docker/config.json');
  });
});

describe('credential helpers (the docker-credential-* protocol: server on stdin, JSON on stdout)', () => {
  /** Installs a helper named docker-credential-<name> that answers with `script`'s output. */
  function helper(name: string, script: string): NodeJS.ProcessEnv {
    const bin = tempDir();
    const path = join(bin, `docker-credential-${name}`);
    writeFileSync(path, `#!/bin/sh\n${script}\n`);
    chmodSync(path, 0o755);
    return {
      PATH: `${bin}:${process.env.PATH}`,
      DOCKER_CONFIG: dockerConfig({ credHelpers: { 'ghcr.io': name } }),
    };
  }

  it('reads user and secret for the server it was asked about', async () => {
    const env = helper(
      'gltest',
      'read server; printf \'{"ServerURL":"%s","Username":"u-%s","Secret":"s3"}\' "$server" "$server"',
    );
    expect(await resolveCredentials('ghcr.io', {}, env)).toEqual({
      username: 'u-ghcr.io',
      password: 's3',
      source: 'credential helper gltest',
    });
  });

  it('takes <token> as an identity token', async () => {
    const env = helper('gltoken', 'echo \'{"Username":"<token>","Secret":"refresh"}\'');
    expect(await resolveCredentials('ghcr.io', {}, env)).toEqual({
      identityToken: 'refresh',
      source: 'credential helper gltoken',
    });
  });

  it('is anonymous when the helper has no credentials for the server', async () => {
    const env = helper('glnone', 'echo "credentials not found in native keychain"; exit 1');
    expect(await resolveCredentials('ghcr.io', {}, env)).toBeUndefined();
  });

  it('names the helper when it answers with something else than JSON', async () => {
    const env = helper('glbroken', 'echo "oops"');
    await expect(resolveCredentials('ghcr.io', {}, env)).rejects.toThrow(
      /docker-credential-glbroken answered with something that is not JSON/,
    );
  });
});

describe('auth files for the tools', () => {
  const entries = new Map<string, RegistryCredentials>([
    ['127.0.0.1:5001', { username: 'alice', password: 's3cret', source: 'inputs' }],
    ['docker.io', { username: 'hub', password: 'hubpw', source: 'inputs' }],
  ]);

  it('writes a 0600 containers auth file with the existing logins under the given ones', () => {
    const home = dockerConfig({
      auths: { 'ghcr.io': { auth: b64('keep:me') }, '127.0.0.1:5001': { auth: b64('old:old') } },
      credHelpers: { 'gcr.io': 'gcloud' },
    });
    const dir = tempDir();
    const path = writeAuthFile(dir, entries, { DOCKER_CONFIG: home });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const written = JSON.parse(readFileSync(path, 'utf8'));
    expect(written.auths).toEqual({
      'ghcr.io': { auth: b64('keep:me') },
      '127.0.0.1:5001': { auth: b64('alice:s3cret') },
      'docker.io': { auth: b64('hub:hubpw') },
    });
    expect(written.credHelpers).toEqual({ 'gcr.io': 'gcloud' });
  });

  it('makes a private Docker config that keeps the buildx builders and uses Docker Hub’s legacy key', () => {
    const home = dockerConfig({ auths: { 'https://index.docker.io/v1/': { auth: b64('old:old') } } });
    mkdirSync(join(home, 'buildx'));
    const dir = tempDir();
    const configDir = writeDockerConfigDir(dir, entries, { DOCKER_CONFIG: home });
    const configFile = join(configDir, 'config.json');
    expect(statSync(configFile).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(configFile, 'utf8')).auths).toEqual({
      '127.0.0.1:5001': { auth: b64('alice:s3cret') },
      'https://index.docker.io/v1/': { auth: b64('hub:hubpw') },
    });
    expect(lstatSync(join(configDir, 'buildx')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(configDir, 'buildx'))).toBe(join(home, 'buildx'));
  });
});
