import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildahBuildArgs, writeSecretFiles } from '../../src/image/buildah.ts';
import type { BuildRequest } from '../../src/image/builder.ts';
import { buildxBuildArgs } from '../../src/image/buildx.ts';

function request(overrides: Partial<BuildRequest> = {}): BuildRequest {
  return {
    context: 'app',
    registry: '127.0.0.1:5000',
    repository: '127.0.0.1:5000/shop/api',
    localTags: ['127.0.0.1:5000/shop/api:main'],
    labels: {},
    annotations: {},
    buildArgs: [],
    secrets: [],
    platforms: [],
    cacheFrom: [],
    cacheTo: [],
    push: true,
    workDir: '/work',
    env: {},
    ...overrides,
  };
}

describe('buildahBuildArgs', () => {
  it.each([
    {
      name: 'the minimum',
      request: request(),
      manifest: undefined,
      args: ['build', '--layers', '--iidfile', '/w/iid', '--tag', '127.0.0.1:5000/shop/api:main', 'app'],
    },
    {
      name: 'every option',
      request: request({
        file: 'app/Dockerfile.prod',
        target: 'runtime',
        authFile: '/w/auth.json',
        platforms: ['linux/arm64'],
        buildArgs: ['VERSION=1.2.3'],
        labels: { 'org.opencontainers.image.version': '1.2.3' },
        annotations: { 'org.opencontainers.image.revision': 'abc' },
        timestamp: 1700000000,
      }),
      manifest: undefined,
      args: [
        'build',
        '--layers',
        '--iidfile',
        '/w/iid',
        '--file',
        'app/Dockerfile.prod',
        '--target',
        'runtime',
        '--authfile',
        '/w/auth.json',
        '--platform',
        'linux/arm64',
        '--tag',
        '127.0.0.1:5000/shop/api:main',
        '--build-arg',
        'VERSION=1.2.3',
        '--label',
        'org.opencontainers.image.version=1.2.3',
        '--annotation',
        'org.opencontainers.image.revision=abc',
        '--secret',
        'id=npm,src=/w/secrets/0',
        '--timestamp',
        '1700000000',
        'app',
      ],
    },
    {
      name: 'several platforms build a manifest list instead of tags',
      request: request({ platforms: ['linux/amd64', 'linux/arm64'] }),
      manifest: 'localhost/greenlight-build:x',
      args: [
        'build',
        '--platform',
        'linux/amd64,linux/arm64',
        '--manifest',
        'localhost/greenlight-build:x',
        'app',
      ],
    },
  ])('$name', ({ request: r, manifest, args }) => {
    const secretArgs = args.includes('--secret') ? ['id=npm,src=/w/secrets/0'] : [];
    expect(buildahBuildArgs(r, { iidFile: '/w/iid', secretArgs, manifestName: manifest })).toEqual(args);
  });
});

describe('buildxBuildArgs', () => {
  const head = ['buildx', 'build', '--progress', 'plain', '--metadata-file', '/w/meta.json'];
  it.each([
    {
      name: 'push by digest to a loopback registry (plain HTTP)',
      request: request(),
      args: [
        ...head,
        '--output',
        'type=image,name=127.0.0.1:5000/shop/api,push-by-digest=true,name-canonical=true,push=true,registry.insecure=true',
        'app',
      ],
    },
    {
      name: 'push by digest to a TLS registry, with caches and platforms',
      request: request({
        registry: 'ghcr.io',
        repository: 'ghcr.io/acme/api',
        platforms: ['linux/amd64', 'linux/arm64'],
        cacheFrom: ['type=gha'],
        cacheTo: ['type=gha,mode=max'],
        buildArgs: ['A=1'],
      }),
      args: [
        ...head,
        '--platform',
        'linux/amd64,linux/arm64',
        '--build-arg',
        'A=1',
        '--cache-from',
        'type=gha',
        '--cache-to',
        'type=gha,mode=max',
        '--output',
        'type=image,name=ghcr.io/acme/api,push-by-digest=true,name-canonical=true,push=true',
        'app',
      ],
    },
    {
      name: 'no push loads the image with its tags',
      request: request({ push: false, labels: { a: 'b' } }),
      args: [...head, '--label', 'a=b', '--load', '--tag', '127.0.0.1:5000/shop/api:main', 'app'],
    },
    {
      name: 'no push with several platforms only builds',
      request: request({ push: false, platforms: ['linux/amd64', 'linux/arm64'] }),
      args: [...head, '--platform', 'linux/amd64,linux/arm64', 'app'],
    },
  ])('$name', ({ request: r, args }) => {
    expect(buildxBuildArgs(r, { metadataFile: '/w/meta.json', secretArgs: [] })).toEqual(args);
  });
});

describe('writeSecretFiles', () => {
  it('writes each secret to a 0600 file and never puts the value in the arguments', () => {
    const dir = mkdtempSync(join(tmpdir(), 'greenlight-secrets-test-'));
    const args = writeSecretFiles(dir, [
      { id: 'npm', value: 'token-value-1' },
      { id: 'pip', value: 'token-value-2' },
    ]);
    expect(args).toEqual([
      `id=npm,src=${join(dir, 'secrets', '0')}`,
      `id=pip,src=${join(dir, 'secrets', '1')}`,
    ]);
    expect(readFileSync(join(dir, 'secrets', '1'), 'utf8')).toBe('token-value-2');
    expect(statSync(join(dir, 'secrets', '0')).mode & 0o777).toBe(0o600);
    expect(args.join(' ')).not.toContain('token-value');
    rmSync(dir, { recursive: true, force: true });
  });
});
