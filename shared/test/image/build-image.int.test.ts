// build-image against testenv's real registries with buildah and skopeo: each event kind, release immutability,
// retags within a registry and to the htpasswd registry, and the failures that must push nothing.

import { createHash } from 'node:crypto';
import { readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GreenlightError } from '../../src/runtime/errors.ts';
import {
  authFile,
  buildContext,
  eventEnv,
  inspect,
  listTags,
  rawManifest,
  removeTempDirs,
  runBuildImage,
  tempDir,
  testenv,
  unique,
} from './support.ts';

const env = testenv();
afterAll(removeTempDirs);
const SHA = '1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c';
const SHA2 = '9a8b7c6d5e4f30219a8b7c6d5e4f30219a8b7c6d';
const onMain = { repository: { default_branch: 'main' } };
const SEMVER_RULES = [
  'type=semver,pattern={{version}}',
  'type=semver,pattern={{major}}.{{minor}}',
  'type=semver,pattern={{major}}',
  'type=sha',
].join('\n');

/** The tag names of full references, sorted. */
function names(tags: string, repository: string): string[] {
  return tags
    .split('\n')
    .filter(Boolean)
    .map((tag) => tag.slice(repository.length + 1))
    .sort();
}

/** Asserts the run succeeded and every tag it reports points to its digest in the registry. */
async function expectPushed(
  run: Awaited<ReturnType<typeof runBuildImage>>,
  repository: string,
  expected: string[],
  auth?: string,
) {
  expect(run.error, run.logs.join('\n')).toBeUndefined();
  const outputs = run.outputs as Record<string, string>;
  expect(names(outputs.tags as string, repository)).toEqual([...expected].sort());
  expect(outputs.image).toBe(`${repository}@${outputs.digest}`);
  for (const tag of expected)
    expect((await inspect(`${repository}:${tag}`, auth)).Digest).toBe(outputs.digest);
  return outputs;
}

describe('build-image with buildah on the testenv registry', () => {
  const repository = `${env.registry}/${unique('it')}/app`;
  const digests: Record<string, string> = {};

  it('push to main: the branch tag and the short sha; the summary shows tags, digest, size, builder, phases', async () => {
    const run = await runBuildImage(
      {
        image: repository,
        context: buildContext(env.baseImage, 'main build'),
        tags: 'type=ref,event=branch\ntype=sha',
        builder: 'auto',
      },
      eventEnv({ name: 'push', ref: 'refs/heads/main', sha: SHA, payload: onMain }),
    );
    const outputs = await expectPushed(run, repository, ['main', `sha-${SHA.slice(0, 7)}`]);
    expect(run.logs).toContainEqual(
      expect.stringMatching(/builder: buildah \(auto: no Docker engine answers/),
    );
    expect(run.logs).toContainEqual(expect.stringMatching(/STEP 3\/\d+: RUN cat \/hello.txt/));
    expect(run.summary).toContain(`\`${outputs.image}\``);
    expect(run.summary).toMatch(/\| size \(compressed\) \| [\d.]+ (KiB|MiB) \|/);
    expect(run.summary).toMatch(/\| builder \| buildah version \d+\.\d+/);
    expect(run.summary).toContain('```mermaid');
    expect(run.phases).toEqual([
      'choose builder:ok',
      'registry check:ok',
      'tags:ok',
      'build:ok',
      'release check:ok',
      'push:ok',
      'tag:ok',
      'read back:ok',
    ]);
    const labels = (await inspect(`${repository}:main`)).Labels ?? {};
    expect(labels['org.opencontainers.image.revision']).toBe(SHA);
    const json = JSON.parse(outputs.json as string);
    expect(json).toMatchObject({ digest: outputs.digest, pushed: true, version: 'main' });
    expect(json.size).toBeGreaterThan(0);
  });

  it('tag v1.2.3: 1.2.3, 1.2, 1, latest and sha-... on one digest', async () => {
    const run = await runBuildImage(
      { image: repository, context: buildContext(env.baseImage, 'release 1.2.3'), tags: SEMVER_RULES },
      eventEnv({ name: 'push', ref: 'refs/tags/v1.2.3', sha: SHA, payload: onMain }),
    );
    const outputs = await expectPushed(run, repository, [
      '1.2.3',
      '1.2',
      '1',
      'latest',
      `sha-${SHA.slice(0, 7)}`,
    ]);
    expect(outputs.version).toBe('1.2.3');
    expect(outputs.labels).toContain('org.opencontainers.image.version=1.2.3');
    digests['1.2.3'] = outputs.digest as string;
  });

  it('workflow_dispatch with a version input: 2.0.0, 2.0, 2 and latest', async () => {
    const run = await runBuildImage(
      {
        image: repository,
        context: buildContext(env.baseImage, 'release 2.0.0'),
        tags: SEMVER_RULES.replace('\ntype=sha', ''),
      },
      eventEnv({
        name: 'workflow_dispatch',
        ref: 'refs/heads/main',
        sha: SHA2,
        payload: { ...onMain, inputs: { version: '2.0.0' } },
      }),
    );
    const outputs = await expectPushed(run, repository, ['2.0.0', '2.0', '2', 'latest']);
    digests['2.0.0'] = outputs.digest as string;
  });

  it('a backport v1.4.9 after 2.0.0 does not take latest (the registry tags decide)', async () => {
    const run = await runBuildImage(
      {
        image: repository,
        context: buildContext(env.baseImage, 'backport 1.4.9'),
        tags: SEMVER_RULES.replace('\ntype=sha', ''),
      },
      eventEnv({ name: 'push', ref: 'refs/tags/v1.4.9', sha: SHA2, payload: onMain }),
    );
    const outputs = await expectPushed(run, repository, ['1.4.9', '1.4', '1']);
    expect((await inspect(`${repository}:latest`)).Digest).toBe(digests['2.0.0']);
    expect((await inspect(`${repository}:1`)).Digest).toBe(outputs.digest);
  });

  it('refuses to move release tag 1.2.3 to new content, names both digests, and tags nothing', async () => {
    const before = await Promise.all(
      ['1.2.3', '1.2', 'latest'].map(async (t) => (await inspect(`${repository}:${t}`)).Digest),
    );
    const run = await runBuildImage(
      { image: repository, context: buildContext(env.baseImage, 'a different 1.2.3'), tags: SEMVER_RULES },
      eventEnv({ name: 'push', ref: 'refs/tags/v1.2.3', sha: SHA2, payload: onMain }),
    );
    expect(run.error).toBeInstanceOf(GreenlightError);
    const message = (run.error as Error).message;
    expect(message).toMatch(/immutable release check failed on image/);
    expect(message).toContain(`1.2.3 points to ${digests['1.2.3']}, this run built sha256:`);
    const built = /this run built (sha256:[a-f0-9]{64})/.exec(message)?.[1];
    expect(built).not.toBe(digests['1.2.3']);
    expect(message).toContain('overwrite: true');
    expect(run.phases).toContain('release check:failed');
    expect(run.phases.some((p) => p.startsWith('push:') || p.startsWith('tag:'))).toBe(false);
    const after = await Promise.all(
      ['1.2.3', '1.2', 'latest'].map(async (t) => (await inspect(`${repository}:${t}`)).Digest),
    );
    expect(after).toEqual(before);
  });

  it('moves it with overwrite: true, and says so', async () => {
    const run = await runBuildImage(
      {
        image: repository,
        context: buildContext(env.baseImage, 'a different 1.2.3'),
        tags: 'type=semver,pattern={{version}}',
        flavor: 'latest=false',
        overwrite: 'true',
      },
      eventEnv({ name: 'push', ref: 'refs/tags/v1.2.3', sha: SHA2, payload: onMain }),
    );
    const outputs = await expectPushed(run, repository, ['1.2.3']);
    expect(outputs.digest).not.toBe(digests['1.2.3']);
    expect(run.logs).toContainEqual(
      expect.stringContaining(`release tag 1.2.3 moves from ${digests['1.2.3']}`),
    );
    expect(run.summary).toContain(`moved from ${digests['1.2.3']} (overwrite)`);
  });

  it('retags a digest into a second repository of the same registry by mounting blobs', async () => {
    const target = `${env.registry}/${unique('it')}/promoted`;
    const source = `${repository}@${digests['2.0.0']}`;
    const run = await runBuildImage(
      {
        image: target,
        mode: 'retag',
        source,
        version: '2.0.0',
        tags: SEMVER_RULES.replace('\ntype=sha', ''),
        'build-args': 'IGNORED=1',
      },
      eventEnv({ name: 'workflow_dispatch', ref: 'refs/heads/main', sha: SHA2, payload: onMain }),
    );
    const outputs = await expectPushed(run, target, ['2.0.0', '2.0', '2', 'latest']);
    expect(outputs.digest).toBe(digests['2.0.0']);
    expect(run.summary).toContain('registry API (blobs mounted, no layer moved)');
    expect(run.phases).not.toContain('build:ok');
    expect(run.logs).toContainEqual(expect.stringContaining('`build-args` only shape a build'));
  });

  it('build with push: false pushes nothing and still reports the digest it would have', async () => {
    const target = `${env.registry}/${unique('it')}/local`;
    const run = await runBuildImage(
      {
        image: target,
        context: buildContext(env.baseImage, 'local only'),
        tags: 'type=raw,value=local',
        push: 'false',
      },
      eventEnv({ name: 'push', ref: 'refs/heads/main', sha: SHA, payload: onMain }),
    );
    expect(run.error, run.logs.join('\n')).toBeUndefined();
    expect(run.outputs?.digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(run.outputs?.image).toBe('');
    expect(run.phases.filter((p) => p.endsWith(':skipped'))).toEqual([
      'release check:skipped',
      'push:skipped',
      'tag:skipped',
    ]);
    expect(run.summary).toContain('| image | not pushed |');
    expect(await listTags(target)).toEqual([]);
  });

  it('retags a digest onto the htpasswd registry with username and password, which never reach a log', async () => {
    const target = `${env.authRegistry}/${unique('it')}/app`;
    const auth = authFile(env.authRegistry, env.user, env.password);
    const run = await runBuildImage(
      {
        image: target,
        mode: 'retag',
        source: `${repository}@${digests['2.0.0']}`,
        tags: 'type=raw,value=prod\ntype=semver,pattern={{version}}',
        version: '2.0.0',
        username: env.user,
        password: env.password,
      },
      eventEnv({ name: 'workflow_dispatch', ref: 'refs/heads/main', sha: SHA2, payload: onMain }),
    );
    const outputs = await expectPushed(run, target, ['prod', '2.0.0', 'latest'], auth);
    expect(outputs.digest).toBe(digests['2.0.0']);
    expect(run.summary).toContain('skopeo copy (digest preserved)');
    expect([...run.logs, run.summary, outputs.json].join('\n')).not.toContain(env.password);
  });
});

describe('build-image login from the existing Docker config', () => {
  it('pushes to the htpasswd registry with the login docker left in config.json, and says where it came from', async () => {
    const repository = `${env.authRegistry}/${unique('it')}/app`;
    const dockerConfig = tempDir('docker-config');
    const auth = Buffer.from(`${env.user}:${env.password}`).toString('base64');
    writeFileSync(
      join(dockerConfig, 'config.json'),
      JSON.stringify({ auths: { [env.authRegistry]: { auth } } }),
      {
        mode: 0o600,
      },
    );
    const run = await runBuildImage(
      {
        image: repository,
        context: buildContext(env.baseImage, 'docker config login'),
        tags: 'type=raw,value=cfg',
      },
      {
        ...eventEnv({ name: 'push', ref: 'refs/heads/main', sha: SHA, payload: onMain }),
        DOCKER_CONFIG: dockerConfig,
      },
    );
    await expectPushed(run, repository, ['cfg'], authFile(env.authRegistry, env.user, env.password));
    expect(run.logs).toContainEqual(
      `registry ${env.authRegistry}: credentials from docker config (${join(dockerConfig, 'config.json')})`,
    );
    expect([...run.logs, run.summary].join('\n')).not.toContain(env.password);
  });
});

describe('build-image events', () => {
  it('a pull request: pr-N, and the head commit (not the merge commit) as revision', async () => {
    const repository = `${env.registry}/${unique('it')}/pr`;
    const head = 'abcdef0123456789abcdef0123456789abcdef01';
    const run = await runBuildImage(
      {
        image: repository,
        context: buildContext(env.baseImage, 'pull request'),
        tags: 'type=ref,event=pr\ntype=sha',
      },
      eventEnv({
        name: 'pull_request',
        ref: 'refs/pull/7/merge',
        sha: SHA,
        payload: {
          pull_request: { number: 7, head: { sha: head, ref: 'feature/x' }, base: { ref: 'main' } },
        },
      }),
    );
    await expectPushed(run, repository, ['pr-7', `sha-${head.slice(0, 7)}`]);
    expect((await inspect(`${repository}:pr-7`)).Labels?.['org.opencontainers.image.revision']).toBe(head);
  });

  it('a monorepo tag api/v3.1.0 with tag-prefix api/: 3.1.0, 3.1 and latest', async () => {
    const repository = `${env.registry}/${unique('it')}/api`;
    const run = await runBuildImage(
      {
        image: repository,
        context: buildContext(env.baseImage, 'api component'),
        tags: 'type=semver,pattern={{version}}\ntype=semver,pattern={{major}}.{{minor}}',
        'tag-prefix': 'api/',
      },
      eventEnv({ name: 'push', ref: 'refs/tags/api/v3.1.0', sha: SHA, payload: onMain }),
    );
    const outputs = await expectPushed(run, repository, ['3.1.0', '3.1', 'latest']);
    expect(outputs.version).toBe('3.1.0');
  });

  it('target, build args, labels and annotations reach the image', async () => {
    const repository = `${env.registry}/${unique('it')}/stages`;
    const context = buildContext(env.baseImage, 'stages');
    writeFileSync(
      join(context, 'Dockerfile'),
      [
        `FROM ${env.baseImage} AS first`,
        'ARG FLAVOUR=plain',
        'LABEL stage=first flavour=$FLAVOUR',
        'FROM first AS second',
        'LABEL stage=second',
        '',
      ].join('\n'),
    );
    const run = await runBuildImage(
      {
        image: repository,
        context,
        target: 'first',
        'build-args': 'FLAVOUR=spicy',
        tags: 'type=raw,value=first',
        labels: 'org.opencontainers.image.title=custom title\nteam=shop',
        annotations: 'org.opencontainers.image.description=built by the test',
      },
      eventEnv({ name: 'push', ref: 'refs/heads/main', sha: SHA, payload: onMain }),
    );
    await expectPushed(run, repository, ['first']);
    const labels = (await inspect(`${repository}:first`)).Labels ?? {};
    expect(labels).toMatchObject({
      stage: 'first',
      flavour: 'spicy',
      team: 'shop',
      'org.opencontainers.image.title': 'custom title',
      'org.opencontainers.image.revision': SHA,
    });
    const { annotations } = await rawManifest(`${repository}:first`);
    expect(annotations).toMatchObject({
      'org.opencontainers.image.description': 'built by the test',
      'org.opencontainers.image.revision': SHA,
    });
  });

  it('a build secret reaches RUN --mount=type=secret, is masked, and is never written to the log', async () => {
    const repository = `${env.registry}/${unique('it')}/secret`;
    const value = `s3cr3t-${unique('v')}`;
    const digest = createHash('sha256').update(value).digest('hex');
    const context = buildContext(env.baseImage, 'with a secret');
    // Only the hash is in the Dockerfile: the build passes only when the secret file holds the value.
    writeFileSync(
      join(context, 'Dockerfile'),
      `FROM ${env.baseImage}\nRUN --mount=type=secret,id=token test "$(sha256sum /run/secrets/token | cut -c1-64)" = "${digest}"\n`,
    );
    const run = await runBuildImage(
      { image: repository, context, tags: 'type=raw,value=ok', secrets: `token=${value}` },
      eventEnv({ name: 'push', ref: 'refs/heads/main', sha: SHA, payload: onMain }),
    );
    await expectPushed(run, repository, ['ok']);
    expect(run.secrets).toContain(value);
    expect([...run.logs, run.summary].join('\n')).not.toContain(value);
  });
});

describe('build-image progress', () => {
  it('says the build is alive, and at which step, when the tool is quiet for a while', async () => {
    const repository = `${env.registry}/${unique('it')}/slow`;
    const context = buildContext(env.baseImage, 'slow');
    // A fresh value in the step, so buildah's layer cache cannot answer it from an earlier run.
    writeFileSync(
      join(context, 'Dockerfile'),
      `FROM ${env.baseImage}\nRUN sleep 25 && echo ${unique('run')}\n`,
    );
    const run = await runBuildImage(
      { image: repository, context, tags: 'type=raw,value=slow' },
      eventEnv({ name: 'push', ref: 'refs/heads/main', sha: SHA, payload: onMain }),
    );
    await expectPushed(run, repository, ['slow']);
    expect(run.logs).toContainEqual(
      expect.stringMatching(/^still building \(STEP 2\/\d+: RUN sleep 25 && echo run-[0-9a-f]+\), \d+ s$/),
    );
  });
});

describe('build-image with a version in RELEASE.txt', () => {
  it('releases 3.0.0 from the file on main once; later pushes with the same file are ordinary builds', async () => {
    const repository = `${env.registry}/${unique('it')}/file`;
    const rules = 'type=semver,pattern={{version}}\ntype=semver,pattern={{major}}\ntype=ref,event=branch';
    const first = buildContext(env.baseImage, 'release from the file');
    writeFileSync(join(first, 'RELEASE.txt'), '3.0.0\n\nFirst release from the file.\n');
    const released = await runBuildImage(
      { image: repository, context: first, tags: rules },
      eventEnv({ name: 'push', ref: 'refs/heads/main', sha: SHA, payload: onMain }),
    );
    const outputs = await expectPushed(released, repository, ['3.0.0', '3', 'latest', 'main']);
    expect(outputs.version).toBe('3.0.0');

    const later = buildContext(env.baseImage, 'a later commit, same RELEASE.txt');
    writeFileSync(join(later, 'RELEASE.txt'), '3.0.0\n\nFirst release from the file.\n');
    const run = await runBuildImage(
      { image: repository, context: later, tags: rules },
      eventEnv({ name: 'push', ref: 'refs/heads/main', sha: SHA2, payload: onMain }),
    );
    const again = await expectPushed(run, repository, ['main']);
    expect(again.digest).not.toBe(outputs.digest);
    expect(run.logs).toContainEqual(expect.stringContaining('says 3.0.0, already released as 3.0.0'));
    for (const tag of ['3.0.0', '3', 'latest'])
      expect((await inspect(`${repository}:${tag}`)).Digest).toBe(outputs.digest);
  });

  it('a re-run of the release job for the same commit reuses the image instead of failing', async () => {
    const repository = `${env.registry}/${unique('it')}/rerun`;
    const rules = 'type=semver,pattern={{version}}\ntype=semver,pattern={{major}}.{{minor}}';
    const event = { name: 'push', ref: 'refs/tags/v5.0.0', sha: SHA, payload: onMain };
    const first = await runBuildImage(
      { image: repository, context: buildContext(env.baseImage, 'first attempt'), tags: rules },
      eventEnv(event),
    );
    const original = await expectPushed(first, repository, ['5.0.0', '5.0', 'latest']);
    // The re-run checks out the same commit; the rebuild would differ (a new timestamp), here its content too.
    const rerun = await runBuildImage(
      { image: repository, context: buildContext(env.baseImage, 'second attempt'), tags: rules },
      eventEnv(event),
    );
    const outputs = await expectPushed(rerun, repository, ['5.0.0', '5.0', 'latest']);
    expect(outputs.digest).toBe(original.digest);
    expect(rerun.phases).toContain('build:skipped');
    expect(rerun.logs).toContainEqual(expect.stringContaining(`was built from this commit (${SHA}) already`));
    expect(rerun.summary).toContain('not rebuilt');
  });

  it('a tag push of an existing release is still refused: a tag is a deliberate release', async () => {
    const repository = `${env.registry}/${unique('it')}/file-tag`;
    const first = await runBuildImage(
      {
        image: repository,
        context: buildContext(env.baseImage, 'one'),
        tags: 'type=semver,pattern={{version}}',
      },
      eventEnv({ name: 'push', ref: 'refs/tags/v4.0.0', sha: SHA, payload: onMain }),
    );
    await expectPushed(first, repository, ['4.0.0', 'latest']);
    const second = await runBuildImage(
      {
        image: repository,
        context: buildContext(env.baseImage, 'two'),
        tags: 'type=semver,pattern={{version}}',
      },
      eventEnv({ name: 'push', ref: 'refs/tags/v4.0.0', sha: SHA2, payload: onMain }),
    );
    expect((second.error as Error).message).toContain('4.0.0 points to');
  });
});

describe('build-image for several platforms', () => {
  it('builds an index for linux/amd64 and linux/arm64, and a retag mounts every platform', async () => {
    const repository = `${env.registry}/${unique('it')}/multi`;
    // FROM scratch with COPY only: no RUN step, so no emulator is needed for the foreign platform.
    const context = buildContext(env.baseImage, 'two platforms');
    writeFileSync(join(context, 'Dockerfile'), 'FROM scratch\nCOPY hello.txt /hello.txt\n');
    const run = await runBuildImage(
      { image: repository, context, tags: 'type=raw,value=multi', platforms: 'linux/amd64,linux/arm64' },
      eventEnv({ name: 'push', ref: 'refs/heads/main', sha: SHA, payload: onMain }),
    );
    const outputs = await expectPushed(run, repository, ['multi']);
    const json = JSON.parse(outputs.json as string) as { platforms: { platform: string }[] };
    expect(json.platforms.map((p) => p.platform).sort()).toEqual(['linux/amd64', 'linux/arm64']);
    expect(run.summary).toMatch(/linux\/(amd64|arm64): [\d.]+ KiB, linux\/(amd64|arm64): [\d.]+ KiB/);

    const target = `${env.registry}/${unique('it')}/multi-copy`;
    const retag = await runBuildImage(
      { image: target, mode: 'retag', source: outputs.image as string, tags: 'type=raw,value=copied' },
      eventEnv({ name: 'push', ref: 'refs/heads/main', sha: SHA, payload: onMain }),
    );
    const copied = await expectPushed(retag, target, ['copied']);
    expect(copied.digest).toBe(outputs.digest);
    expect(retag.summary).toContain('registry API (blobs mounted, no layer moved)');
  });
});

describe('build-image failures push nothing', () => {
  it('a broken Dockerfile: names the Dockerfile and the failing step, keeps the log tail in the summary', async () => {
    const repository = `${env.registry}/${unique('it')}/broken`;
    const context = buildContext(env.baseImage, 'broken');
    writeFileSync(join(context, 'Dockerfile'), `FROM ${env.baseImage}\nRUN echo about to fail && exit 3\n`);
    const run = await runBuildImage(
      { image: repository, context, tags: 'type=raw,value=broken' },
      eventEnv({ name: 'push', ref: 'refs/heads/main', sha: SHA, payload: onMain }),
    );
    expect(run.error).toBeInstanceOf(GreenlightError);
    const message = (run.error as Error).message;
    expect(message).toContain(`build failed on Dockerfile ${join(context, 'Dockerfile')}`);
    expect(message).toMatch(/buildah exited with \d+: .*exit status 3/);
    expect(message).toContain('Hint: fix the Dockerfile');
    // The annotation points at the failing line of the Dockerfile.
    expect((run.error as GreenlightError).file).toBe(join(context, 'Dockerfile'));
    expect((run.error as GreenlightError).line).toBe(2);
    expect(run.summary).toMatch(/<details><summary>Build log, last \d+ lines<\/summary>/);
    expect(run.summary).toContain('about to fail');
    expect(run.summary).toContain('❌ build-image failed');
    expect(run.phases).toContain('build:failed');
    expect(await listTags(repository)).toEqual([]);
  });

  it('a cancelled job stops the build tool, pushes nothing, cleans up and says where it stopped', async () => {
    const repository = `${env.registry}/${unique('it')}/cancelled`;
    const context = buildContext(env.baseImage, 'cancelled');
    writeFileSync(join(context, 'Dockerfile'), `FROM ${env.baseImage}\nRUN sleep 600\n`);
    const runEnv = eventEnv({ name: 'push', ref: 'refs/heads/main', sha: SHA, payload: onMain });
    const controller = new AbortController();
    const run = await runBuildImage({ image: repository, context, tags: 'type=raw,value=x' }, runEnv, {
      signal: controller.signal,
      onLine: (line) => {
        if (/^STEP \d+\/\d+: RUN sleep/.test(line)) controller.abort(new Error('cancelled by SIGTERM'));
      },
    });
    expect(run.error).toBeInstanceOf(GreenlightError);
    expect((run.error as Error).message).toBe(
      'build-image failed: cancelled during build: cancelled by SIGTERM. ' +
        'Hint: every phase is safe to repeat: re-run the job. Tags are written only after the release check',
    );
    expect(run.phases.at(-1)).toBe('build:failed');
    expect(
      readdirSync(runEnv.RUNNER_TEMP as string).filter((name) => name.startsWith('greenlight-build-')),
    ).toEqual([]);
    expect(await listTags(repository)).toEqual([]);
  });

  it('a registry that is down: fails at the registry check, before building', async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer();
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    const run = await runBuildImage(
      {
        image: `127.0.0.1:${port}/team/app`,
        context: buildContext(env.baseImage, 'down'),
        tags: 'type=raw,value=x',
      },
      eventEnv({ name: 'push', ref: 'refs/heads/main', sha: SHA, payload: onMain }),
    );
    expect(run.error).toBeInstanceOf(GreenlightError);
    expect((run.error as Error).message).toBe(
      `registry check (push) failed on registry 127.0.0.1:${port}/team/app: connection refused at http://127.0.0.1:${port}. ` +
        `Hint: check that the registry 127.0.0.1:${port} is up and that the image names the right host and port`,
    );
    expect(run.phases).toEqual(['choose builder:ok', 'registry check:failed']);
  });

  it('a wrong password: fails at the registry check naming the user, never the password', async () => {
    const repository = `${env.authRegistry}/${unique('it')}/app`;
    const wrong = `wrong-${unique('pw')}`;
    const run = await runBuildImage(
      {
        image: repository,
        context: buildContext(env.baseImage, 'wrong password'),
        tags: 'type=raw,value=x',
        username: env.user,
        password: wrong,
      },
      eventEnv({ name: 'push', ref: 'refs/heads/main', sha: SHA, payload: onMain }),
    );
    expect(run.error).toBeInstanceOf(GreenlightError);
    const message = (run.error as Error).message;
    expect(message).toContain(`the registry refused user ${env.user} (from inputs): HTTP 401`);
    expect(message).toContain('Hint: check `username` and `password`');
    expect(run.phases).toEqual(['choose builder:ok', 'registry check:failed']);
    expect([message, ...run.logs, run.summary].join('\n')).not.toContain(wrong);
    expect(await listTags(repository, authFile(env.authRegistry, env.user, env.password))).toEqual([]);
  });

  it('no credentials for the htpasswd registry: says to give them', async () => {
    const run = await runBuildImage(
      { image: `${env.authRegistry}/${unique('it')}/app`, context: buildContext(env.baseImage, 'anon') },
      {
        ...eventEnv({ name: 'push', ref: 'refs/heads/main', sha: SHA, payload: onMain }),
        DOCKER_CONFIG: unique('/nonexistent'),
      },
    );
    expect((run.error as Error).message).toContain(
      'the registry requires credentials and anonymous access has none',
    );
  });
});
