// build-image against a registry that uses bearer tokens, the scheme of ghcr.io, Docker Hub, GitLab and Harbor.
// The registry is the real docker-registry in its `token` auth mode; only the token issuer is written here, as
// no token service ships in Debian. It signs ES256 JWTs the registry verifies against a certificate made by
// openssl, grants push only to the right user and pull alone to anonymous callers.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash, createPrivateKey, createPublicKey, randomUUID, sign } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authFile,
  eventEnv,
  inspect,
  listTags,
  removeTempDirs,
  runBuildImage,
  tempDir,
  unique,
} from './support.ts';

const exec = promisify(execFile);
const USER = 'tokenuser';
const PASSWORD = `pw-${randomUUID()}`;
const SERVICE = 'greenlight-test-registry';
const ISSUER = 'greenlight-test-issuer';

/** The key id the registry computes for a public key (libtrust form: base32 of a SHA-256 prefix, in fours). */
function keyId(publicKeyDer: Buffer): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const bytes = createHash('sha256').update(publicKeyDer).digest().subarray(0, 30);
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return (out.match(/.{4}/g) as string[]).join(':');
}

/** A free loopback port (bound and released). */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

describe('build-image on a bearer-token registry', () => {
  const dir = tempDir('token-registry');
  let issuer: Server;
  let registryProcess: ChildProcess;
  let registry = '';
  const requests: string[] = [];

  beforeAll(async () => {
    const keyFile = join(dir, 'key.pem');
    const certFile = join(dir, 'cert.pem');
    await exec('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', keyFile]);
    await exec('openssl', [
      'req',
      '-new',
      '-x509',
      '-key',
      keyFile,
      '-out',
      certFile,
      '-days',
      '1',
      '-subj',
      '/CN=token',
    ]);
    const key = createPrivateKey(readFileSync(keyFile));
    const kid = keyId(createPublicKey(key).export({ type: 'spki', format: 'der' }));

    issuer = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://issuer');
      const header = req.headers.authorization ?? '';
      const login = header.startsWith('Basic ') ? Buffer.from(header.slice(6), 'base64').toString() : '';
      requests.push(
        `${login ? login.split(':')[0] : 'anonymous'} ${url.searchParams.getAll('scope').join(' ')}`,
      );
      if (login && login !== `${USER}:${PASSWORD}`) {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end('{"errors":[{"code":"UNAUTHORIZED","message":"invalid username or password"}]}');
        return;
      }
      const access = url.searchParams.getAll('scope').map((scope) => {
        const [type, name, actions = ''] = scope.split(':');
        const asked = actions.split(',');
        return { type, name, actions: login ? asked : asked.filter((action) => action === 'pull') };
      });
      const now = Math.floor(Date.now() / 1000);
      const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const body = `${b64({ typ: 'JWT', alg: 'ES256', kid })}.${b64({
        iss: ISSUER,
        sub: login.split(':')[0] ?? '',
        aud: url.searchParams.get('service'),
        exp: now + 300,
        nbf: now - 10,
        iat: now,
        jti: randomUUID(),
        access,
      })}`;
      const signature = sign('sha256', Buffer.from(body), { key, dsaEncoding: 'ieee-p1363' }).toString(
        'base64url',
      );
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ token: `${body}.${signature}` }));
    });
    await new Promise<void>((resolve) => issuer.listen(0, '127.0.0.1', resolve));
    const issuerPort = (issuer.address() as AddressInfo).port;

    const port = await freePort();
    registry = `127.0.0.1:${port}`;
    const config = join(dir, 'registry.yml');
    writeFileSync(
      config,
      [
        'version: 0.1',
        'log:',
        '  level: info',
        'storage:',
        '  filesystem:',
        `    rootdirectory: ${join(dir, 'data')}`,
        'http:',
        `  addr: ${registry}`,
        'auth:',
        '  token:',
        `    realm: http://127.0.0.1:${issuerPort}/token`,
        `    service: ${SERVICE}`,
        `    issuer: ${ISSUER}`,
        `    rootcertbundle: ${certFile}`,
        '',
      ].join('\n'),
    );
    registryProcess = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    // The registry says when it listens; wait for that line rather than polling the port.
    await new Promise<void>((resolve, reject) => {
      let seen = '';
      const timer = setTimeout(() => reject(new Error(`docker-registry did not start: ${seen}`)), 30_000);
      const onData = (chunk: Buffer) => {
        seen += chunk.toString();
        if (seen.includes('listening on')) {
          clearTimeout(timer);
          resolve();
        }
      };
      registryProcess.stdout?.on('data', onData);
      registryProcess.stderr?.on('data', onData);
      registryProcess.once('exit', (code) =>
        reject(new Error(`docker-registry exited with ${code}: ${seen}`)),
      );
    });
  });

  afterAll(async () => {
    if (registryProcess && registryProcess.exitCode === null) {
      const exited = new Promise((resolve) => registryProcess.once('exit', resolve));
      registryProcess.kill();
      await exited;
    }
    await new Promise<void>((resolve) => (issuer ? issuer.close(() => resolve()) : resolve()));
    removeTempDirs();
  });

  const push = { name: 'push', ref: 'refs/heads/main', sha: '0123456789abcdef0123456789abcdef01234567' };

  function scratchContext(content: string): string {
    const context = tempDir('token-context');
    writeFileSync(join(context, 'hello.txt'), `${content}\n`);
    writeFileSync(join(context, 'Dockerfile'), 'FROM scratch\nCOPY hello.txt /hello.txt\n');
    return context;
  }

  it('pushes with username and password through push-scoped tokens, then retags by mounting blobs', async () => {
    const repository = `${registry}/${unique('tok')}/app`;
    const run = await runBuildImage(
      {
        image: repository,
        context: scratchContext('token build'),
        tags: 'type=raw,value=one',
        username: USER,
        password: PASSWORD,
      },
      eventEnv(push),
    );
    expect(run.error, run.logs.join('\n')).toBeUndefined();
    const auth = authFile(registry, USER, PASSWORD);
    const digest = run.outputs?.digest as string;
    expect((await inspect(`${repository}:one`, auth)).Digest).toBe(digest);
    expect(requests).toContainEqual(`${USER} repository:${repository.slice(registry.length + 1)}:pull,push`);

    const target = `${registry}/${unique('tok')}/promoted`;
    const retag = await runBuildImage(
      {
        image: target,
        mode: 'retag',
        source: `${repository}@${digest}`,
        tags: 'type=raw,value=two',
        username: USER,
        password: PASSWORD,
      },
      eventEnv(push),
    );
    expect(retag.error, retag.logs.join('\n')).toBeUndefined();
    expect(retag.summary).toContain('registry API (blobs mounted, no layer moved)');
    expect((await inspect(`${target}:two`, auth)).Digest).toBe(digest);
    // One token covers both repositories for the mount.
    expect(requests.some((r) => r.includes(':pull,push') && r.split(' ').length === 3)).toBe(true);
  });

  it('refuses anonymous callers, whose tokens carry pull alone, before building', async () => {
    const repository = `${registry}/${unique('tok')}/anon`;
    const run = await runBuildImage(
      { image: repository, context: scratchContext('anonymous'), tags: 'type=raw,value=x' },
      { ...eventEnv(push), DOCKER_CONFIG: tempDir('empty-docker-config') },
    );
    expect((run.error as Error).message).toContain('the registry refused anonymous access: HTTP 401');
    expect(run.phases).toEqual(['choose builder:ok', 'registry check:failed']);
    expect(await listTags(repository, authFile(registry, USER, PASSWORD))).toEqual([]);
  });

  it('names the user the token service refused, never the password', async () => {
    const wrong = `wrong-${randomUUID()}`;
    const run = await runBuildImage(
      {
        image: `${registry}/${unique('tok')}/app`,
        context: scratchContext('wrong'),
        username: USER,
        password: wrong,
      },
      eventEnv(push),
    );
    const message = (run.error as Error).message;
    expect(message).toContain(`the token service refused user ${USER} (from inputs): HTTP 401`);
    expect([message, ...run.logs, run.summary].join('\n')).not.toContain(wrong);
    expect(run.phases).toEqual(['choose builder:ok', 'registry check:failed']);
  });
});
