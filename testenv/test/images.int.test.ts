import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEnv } from '../src/index.ts';
import { exec } from './helpers.ts';

describe('registry, buildah and skopeo', () => {
  const env = loadEnv();
  const childEnv = { ...process.env, ...env };
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'testenv-image-'));
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('serves the busybox base image', async () => {
    const { stdout } = await exec(
      'skopeo',
      ['inspect', '--tls-verify=false', `docker://${env.TESTENV_BASE_IMAGE}`],
      { env: childEnv },
    );
    expect(JSON.parse(stdout).Digest).toBe(env.TESTENV_BASE_IMAGE_DIGEST);
  });

  it('builds an image FROM the base with buildah, pushes it, and skopeo reads back the same digest', async () => {
    fs.writeFileSync(path.join(dir, 'hello.txt'), 'hello from greenlight\n');
    fs.writeFileSync(
      path.join(dir, 'Containerfile'),
      `FROM ${env.TESTENV_BASE_IMAGE}\nCOPY hello.txt /hello.txt\nRUN ["/bin/sh", "-c", "cat /hello.txt > /copied.txt"]\nCMD ["/bin/cat", "/copied.txt"]\n`,
    );
    const tag = `${env.TESTENV_REGISTRY}/testenv/hello:${Date.now()}`;
    await exec(
      'buildah',
      ['build', '--tls-verify=false', '-f', path.join(dir, 'Containerfile'), '-t', tag, dir],
      { env: childEnv, maxBuffer: 64 << 20 },
    );
    const digestFile = path.join(dir, 'digest');
    await exec(
      'buildah',
      ['push', '--tls-verify=false', '--digestfile', digestFile, tag, `docker://${tag}`],
      { env: childEnv },
    );
    const pushed = fs.readFileSync(digestFile, 'utf8').trim();
    expect(pushed).toMatch(/^sha256:[0-9a-f]{64}$/);
    const { stdout } = await exec('skopeo', ['inspect', '--tls-verify=false', `docker://${tag}`], {
      env: childEnv,
    });
    expect(JSON.parse(stdout).Digest).toBe(pushed);
  });

  it('the second registry wants basic auth', async () => {
    const ref = `docker://${env.TESTENV_REGISTRY_AUTH}/testenv/base:1`;
    await expect(exec('skopeo', ['inspect', '--tls-verify=false', ref], { env: childEnv })).rejects.toThrow(
      /unauthorized|authentication required/i,
    );
    const { stdout } = await exec(
      'skopeo',
      [
        'inspect',
        '--tls-verify=false',
        '--creds',
        `${env.TESTENV_REGISTRY_USER}:${env.TESTENV_REGISTRY_PASSWORD}`,
        ref,
      ],
      { env: childEnv },
    );
    expect(JSON.parse(stdout).Digest).toBe(env.TESTENV_BASE_IMAGE_DIGEST);
  });
});
