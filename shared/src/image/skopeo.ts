import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BuildFailure } from './builder.ts';
import { failureLine, runTool } from './process.ts';

export interface SkopeoCopyOptions {
  /** A folder for the digest file. */
  workDir: string;
  srcAuthFile?: string;
  destAuthFile?: string;
  /** False for a registry served over plain HTTP (loopback). */
  srcTlsVerify: boolean;
  destTlsVerify: boolean;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  onLine?: (line: string) => void;
}

/**
 * Copies an image with `skopeo copy`, keeping its digest (`--preserve-digests`) and every platform of an index
 * (`--all`). `source` and `destination` are transport references (`docker://...`, `oci:...`). Credentials reach
 * skopeo through auth files only. Returns the digest skopeo wrote.
 */
export async function skopeoCopy(
  source: string,
  destination: string,
  options: SkopeoCopyOptions,
): Promise<string> {
  const digestFile = join(options.workDir, `skopeo-digest-${process.hrtime.bigint()}`);
  const args = ['copy', '--all', '--preserve-digests', '--retry-times', '2', '--digestfile', digestFile];
  if (options.srcAuthFile) args.push('--src-authfile', options.srcAuthFile);
  if (options.destAuthFile) args.push('--dest-authfile', options.destAuthFile);
  if (source.startsWith('docker://')) args.push(`--src-tls-verify=${options.srcTlsVerify}`);
  if (destination.startsWith('docker://')) args.push(`--dest-tls-verify=${options.destTlsVerify}`);
  args.push(source, destination);
  let result: Awaited<ReturnType<typeof runTool>>;
  try {
    result = await runTool('skopeo', args, {
      env: options.env,
      signal: options.signal,
      onLine: options.onLine,
    });
  } catch (error) {
    if (options.signal?.aborted) throw error;
    throw new BuildFailure(
      {
        what: 'copy image',
        object: { kind: 'image', name: destination.replace(/^docker:\/\//, '') },
        reason: `skopeo could not be started: ${error instanceof Error ? error.message : String(error)}`,
        hint: 'install skopeo (apt-get install skopeo)',
        cause: error,
      },
      [],
    );
  }
  if (result.code !== 0) {
    throw new BuildFailure(
      {
        what: 'copy image',
        object: { kind: 'image', name: destination.replace(/^docker:\/\//, '') },
        reason: `skopeo copy exited with ${result.code}: ${failureLine(result.tail)}`,
        hint: 'check that both registries answer and that the credentials may pull the source and push the target',
      },
      result.tail,
    );
  }
  return readFileSync(digestFile, 'utf8').trim();
}
