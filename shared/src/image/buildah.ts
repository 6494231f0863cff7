import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BuildFailure,
  type BuildRequest,
  type BuildSecret,
  type BuiltImage,
  failureLocation,
  type ImageBuilder,
} from './builder.ts';
import { failureLine, runTool, type ToolResult } from './process.ts';
import { isLoopbackHost } from './registry.ts';
import { skopeoCopy } from './skopeo.ts';

/** Writes each build secret to its own file (mode 0600) and returns the `--secret` values that point to them. */
export function writeSecretFiles(dir: string, secrets: readonly BuildSecret[]): string[] {
  const secretDir = join(dir, 'secrets');
  mkdirSync(secretDir, { recursive: true, mode: 0o700 });
  return secrets.map((secret, index) => {
    const path = join(secretDir, String(index));
    writeFileSync(path, secret.value, { mode: 0o600 });
    return `id=${secret.id},src=${path}`;
  });
}

/** The `buildah build` arguments for a request (without the tool name). Pure, so it is table-tested. */
export function buildahBuildArgs(
  request: BuildRequest,
  extra: { iidFile: string; secretArgs: string[]; manifestName?: string },
): string[] {
  const args = ['build'];
  // A multi-platform build is found by its manifest list name (one image ID file holds one image), and builds
  // without the layer cache: buildah 1.28 reuses one platform's cached layers for the next and drops it from the
  // list.
  if (!extra.manifestName) args.push('--layers', '--iidfile', extra.iidFile);
  if (request.file) args.push('--file', request.file);
  if (request.target) args.push('--target', request.target);
  if (request.authFile) args.push('--authfile', request.authFile);
  if (request.platforms.length > 0) args.push('--platform', request.platforms.join(','));
  if (extra.manifestName) args.push('--manifest', extra.manifestName);
  else for (const tag of request.localTags) args.push('--tag', tag);
  for (const buildArg of request.buildArgs) args.push('--build-arg', buildArg);
  for (const [name, value] of Object.entries(request.labels)) args.push('--label', `${name}=${value}`);
  for (const [name, value] of Object.entries(request.annotations))
    args.push('--annotation', `${name}=${value}`);
  for (const secret of extra.secretArgs) args.push('--secret', secret);
  if (request.timestamp !== undefined) args.push('--timestamp', String(request.timestamp));
  args.push(request.context);
  return args;
}

async function run(
  args: string[],
  request: BuildRequest,
  what: string,
  object: { kind: string; name: string },
  hint: string,
  place?: (tail: readonly string[]) => { file: string; line?: number },
): Promise<ToolResult> {
  let result: ToolResult;
  try {
    result = await runTool('buildah', args, {
      env: request.env,
      signal: request.signal,
      onLine: request.onLine,
    });
  } catch (error) {
    if (request.signal?.aborted) throw error;
    throw new BuildFailure(
      {
        what,
        object,
        reason: `buildah could not be started: ${error instanceof Error ? error.message : String(error)}`,
        hint: 'install buildah (apt-get install buildah)',
        cause: error,
      },
      [],
    );
  }
  if (result.code !== 0) {
    throw new BuildFailure(
      {
        what,
        object,
        reason: `buildah exited with ${result.code}: ${failureLine(result.tail)}`,
        hint,
        ...place?.(result.tail),
      },
      result.tail,
    );
  }
  return result;
}

/**
 * Builds with `buildah build` (no Docker engine needed), then writes the image to a local OCI layout so its
 * manifest digest is known before anything reaches the registry; `pushByDigest` copies that layout with skopeo,
 * keeping the digest.
 */
export class BuildahBuilder implements ImageBuilder {
  readonly name = 'buildah' as const;

  async version(): Promise<string> {
    const result = await runTool('buildah', ['--version'], { captureStdout: true });
    return result.stdout.trim();
  }

  async build(request: BuildRequest): Promise<BuiltImage> {
    const iidFile = join(request.workDir, 'iid');
    const secretArgs = writeSecretFiles(request.workDir, request.secrets);
    const multiPlatform = request.platforms.length > 1;
    const manifestName = multiPlatform
      ? `localhost/greenlight-build:${randomBytes(6).toString('hex')}`
      : undefined;
    const dockerfile = { kind: 'Dockerfile', name: request.file ?? join(request.context, 'Dockerfile') };
    const build = await run(
      buildahBuildArgs(request, { iidFile, secretArgs, manifestName }),
      request,
      'build',
      dockerfile,
      'fix the Dockerfile or the build context; the end of the build log is in the job summary',
      (tail) => failureLocation(request, tail),
    );
    const layout = join(request.workDir, 'oci-layout');
    const image = manifestName ?? readFileSync(iidFile, 'utf8').trim();
    await run(
      multiPlatform
        ? ['manifest', 'push', '--all', '--quiet', image, `oci:${layout}:image`]
        : ['push', '--quiet', image, `oci:${layout}:image`],
      request,
      'export the built image',
      { kind: 'image', name: image },
      'check the free disk space of the runner',
    );
    const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as {
      manifests: { digest: string }[];
    };
    const digest = index.manifests[0]?.digest;
    if (!digest) {
      throw new BuildFailure(
        { what: 'export the built image', reason: 'the OCI layout holds no manifest', hint: 'report this' },
        build.tail,
      );
    }
    return {
      digest,
      tail: build.tail,
      pushByDigest: async () => {
        await skopeoCopy(`oci:${layout}:image`, `docker://${request.repository}@${digest}`, {
          workDir: request.workDir,
          destAuthFile: request.authFile,
          srcTlsVerify: true,
          destTlsVerify: !isLoopbackHost(request.registry),
          env: request.env,
          signal: request.signal,
          onLine: request.onLine,
        });
      },
    };
  }
}
