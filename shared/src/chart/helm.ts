import { execFile } from 'node:child_process';
import { GreenlightError } from '../runtime/errors.ts';

/** How to call helm: which binary, and an AbortSignal that stops it when the job is cancelled. */
export interface HelmOptions {
  /** The helm binary: a path or a name on PATH. Default: `$GREENLIGHT_HELM`, else `helm`. */
  helm?: string;
  signal?: AbortSignal;
  cwd?: string;
  /** Extra environment for helm (HELM_REGISTRY_CONFIG, ...); merged over process.env. */
  env?: NodeJS.ProcessEnv;
}

/** The helm binary `options` name, or the default. */
export function helmBinary(options: HelmOptions = {}): string {
  return options.helm ?? process.env.GREENLIGHT_HELM ?? 'helm';
}

/** What a helm run printed. */
export interface HelmResult {
  stdout: string;
  stderr: string;
}

/**
 * Runs helm with an argument array (never through a shell). Throws a GreenlightError with helm's own message
 * when it exits non-zero, and a hint when the binary cannot be found.
 */
export function runHelm(args: readonly string[], options: HelmOptions = {}): Promise<HelmResult> {
  const binary = helmBinary(options);
  return new Promise((resolvePromise, reject) => {
    execFile(
      binary,
      [...args],
      {
        cwd: options.cwd,
        env: options.env ? { ...process.env, ...options.env } : process.env,
        maxBuffer: 256 * 1024 * 1024,
        signal: options.signal,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        if (!error) {
          resolvePromise({ stdout, stderr });
          return;
        }
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') {
          reject(
            new GreenlightError({
              what: `helm ${args[0] ?? ''}`.trim(),
              reason: `the helm binary "${binary}" was not found`,
              hint: 'install Helm 3 or 4 (GitHub runners ship it) or point GREENLIGHT_HELM at the binary',
              cause: error,
            }),
          );
          return;
        }
        if (error.name === 'AbortError') {
          reject(
            new GreenlightError({ what: `helm ${args[0] ?? ''}`.trim(), reason: 'cancelled', cause: error }),
          );
          return;
        }
        reject(helmFailure(args, stderr || error.message, error));
      },
    );
  });
}

/**
 * Turns helm's error output into a GreenlightError. Template errors name a file and line as
 * `(chart/templates/x.yaml:12)` or `chart/templates/x.yaml:12:3`; these are kept so the annotation lands there.
 */
export function helmFailure(args: readonly string[], stderr: string, cause?: unknown): GreenlightError {
  const message = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('WARNING'))
    .join(' ')
    .replace(/^Error:\s*/, '');
  const place = /([\w./-]+\.(?:yaml|yml|tpl|json|txt)):(\d+)/.exec(message);
  return new GreenlightError({
    what: `helm ${args[0] ?? ''}`.trim(),
    reason: message || 'helm failed without a message',
    hint: 'run the same helm command locally to see the full output; check the chart, its values and --set values',
    file: place?.[1],
    line: place ? Number(place[2]) : undefined,
    cause,
  });
}

/** The major version of a helm binary (3 or 4), read from `helm version --short`. */
export async function helmMajorVersion(options: HelmOptions = {}): Promise<number> {
  const { stdout } = await runHelm(['version', '--short'], options);
  const match = /v(\d+)\./.exec(stdout);
  if (!match) {
    throw new GreenlightError({
      what: 'helm version',
      reason: `cannot read a version from "${stdout.trim()}"`,
      hint: 'use Helm 3 or Helm 4',
    });
  }
  return Number(match[1]);
}
