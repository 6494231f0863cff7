import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeSecretFiles } from './buildah.ts';
import {
  BuildFailure,
  type BuildRequest,
  type BuiltImage,
  failureLocation,
  type ImageBuilder,
} from './builder.ts';
import { failureLine, runTool, type ToolResult } from './process.ts';
import { isLoopbackHost } from './registry.ts';

/**
 * The `docker buildx build` arguments for a request (without `docker`). Pushing is by digest only
 * (`push-by-digest=true`): tags are set afterwards through the registry API, once the immutable-release check has
 * seen the digest. Pure, so it is table-tested.
 */
export function buildxBuildArgs(
  request: BuildRequest,
  extra: { metadataFile: string; secretArgs: string[] },
): string[] {
  const args = ['buildx', 'build', '--progress', 'plain', '--metadata-file', extra.metadataFile];
  if (request.file) args.push('--file', request.file);
  if (request.target) args.push('--target', request.target);
  if (request.platforms.length > 0) args.push('--platform', request.platforms.join(','));
  for (const buildArg of request.buildArgs) args.push('--build-arg', buildArg);
  for (const [name, value] of Object.entries(request.labels)) args.push('--label', `${name}=${value}`);
  for (const [name, value] of Object.entries(request.annotations))
    args.push('--annotation', `${name}=${value}`);
  for (const secret of extra.secretArgs) args.push('--secret', secret);
  for (const cache of request.cacheFrom) args.push('--cache-from', cache);
  for (const cache of request.cacheTo) args.push('--cache-to', cache);
  if (request.push) {
    const output = [
      'type=image',
      `name=${request.repository}`,
      'push-by-digest=true',
      'name-canonical=true',
      'push=true',
    ];
    if (isLoopbackHost(request.registry)) output.push('registry.insecure=true');
    args.push('--output', output.join(','));
  } else if (request.platforms.length <= 1) {
    args.push('--load');
    for (const tag of request.localTags) args.push('--tag', tag);
  }
  args.push(request.context);
  return args;
}

/**
 * Builds with `docker buildx build` on the configured builder (GitHub's runners). With `push`, the image goes to
 * the registry by digest during the build, untagged; `pushByDigest` then has nothing left to do.
 */
export class BuildxBuilder implements ImageBuilder {
  readonly name = 'buildx' as const;

  async version(): Promise<string> {
    const result = await runTool('docker', ['buildx', 'version'], { captureStdout: true });
    return result.stdout.trim();
  }

  async build(request: BuildRequest): Promise<BuiltImage> {
    const metadataFile = join(request.workDir, 'buildx-metadata.json');
    const secretArgs = writeSecretFiles(request.workDir, request.secrets);
    const dockerfile = { kind: 'Dockerfile', name: request.file ?? join(request.context, 'Dockerfile') };
    let result: ToolResult;
    try {
      result = await runTool('docker', buildxBuildArgs(request, { metadataFile, secretArgs }), {
        env: request.env,
        signal: request.signal,
        onLine: request.onLine,
      });
    } catch (error) {
      if (request.signal?.aborted) throw error;
      throw new BuildFailure(
        {
          what: 'build',
          object: dockerfile,
          reason: `docker could not be started: ${error instanceof Error ? error.message : String(error)}`,
          hint: 'install Docker with buildx, or set `builder: buildah`',
          cause: error,
        },
        [],
      );
    }
    if (result.code !== 0) {
      throw new BuildFailure(
        {
          what: 'build',
          object: dockerfile,
          reason: `docker buildx exited with ${result.code}: ${failureLine(result.tail)}`,
          hint: 'fix the Dockerfile or the build context; the end of the build log is in the job summary',
          ...failureLocation(request, result.tail),
        },
        result.tail,
      );
    }
    const metadata = JSON.parse(readFileSync(metadataFile, 'utf8')) as Record<string, unknown>;
    const digest = metadata['containerimage.digest'];
    if (typeof digest !== 'string') {
      throw new BuildFailure(
        {
          what: 'build',
          object: dockerfile,
          reason: 'docker buildx reported no image digest in its metadata file',
          hint: 'update buildx (0.10 or newer), or set `builder: buildah`',
        },
        result.tail,
      );
    }
    return { digest, tail: result.tail, pushByDigest: async () => {} };
  }
}
