// Helpers for the build-image integration tests: run the command in-process with an event as the runner would
// describe it, and read the registry back with skopeo (the real tool, independent of our registry client).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildImage, buildImageInputs } from '../../src/commands/build-image.ts';
import { reportFailure } from '../../src/runtime/command.ts';
import type { AnnotationLevel, AnnotationPlace, Host } from '../../src/runtime/host.ts';
import { readInputs } from '../../src/runtime/inputs.ts';
import { PhaseClock, SummaryBuilder } from '../../src/runtime/summary.ts';

const exec = promisify(execFile);

/** The testenv values these tests use; the integration project's global set-up puts them in process.env. */
export function testenv() {
  const need = (name: string): string => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is not set: run the integration project, which starts testenv`);
    return value;
  };
  return {
    registry: need('TESTENV_REGISTRY'),
    authRegistry: need('TESTENV_REGISTRY_AUTH'),
    user: need('TESTENV_REGISTRY_USER'),
    password: need('TESTENV_REGISTRY_PASSWORD'),
    baseImage: need('TESTENV_BASE_IMAGE'),
  };
}

/** A fresh name, so each test run writes to repositories no earlier run touched. */
export function unique(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

const created: string[] = [];

/** A fresh temporary folder, removed by removeTempDirs when the test file ends. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `greenlight-${prefix}-`));
  created.push(dir);
  return dir;
}

/** Removes every folder tempDir made (call it from afterAll). */
export function removeTempDirs(): void {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A build context with a Dockerfile FROM the testenv base image that copies a file and runs a command. */
export function buildContext(baseImage: string, content: string): string {
  const dir = tempDir('context');
  writeFileSync(join(dir, 'hello.txt'), `${content}\n`);
  writeFileSync(
    join(dir, 'Dockerfile'),
    `FROM ${baseImage}\nCOPY hello.txt /hello.txt\nRUN cat /hello.txt > /copy.txt\nCMD ["/bin/cat", "/copy.txt"]\n`,
  );
  return dir;
}

export interface GitEvent {
  name: string;
  ref: string;
  sha: string;
  payload?: Record<string, unknown>;
}

/** The GITHUB_* variables and event file of a run, on top of the process environment (buildah's settings). */
export function eventEnv(event: GitEvent): NodeJS.ProcessEnv {
  const dir = tempDir('event');
  const eventPath = join(dir, 'event.json');
  writeFileSync(eventPath, JSON.stringify(event.payload ?? {}));
  return {
    ...process.env,
    GITHUB_EVENT_NAME: event.name,
    GITHUB_REF: event.ref,
    GITHUB_SHA: event.sha,
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_REPOSITORY: 'greenlight/demo',
    GITHUB_WORKSPACE: dir,
    RUNNER_TEMP: dir,
  };
}

export interface CommandRun {
  outputs?: Record<string, string>;
  error?: unknown;
  logs: string[];
  summary: string;
  phases: string[];
  /** The values the command registered for masking. */
  secrets: string[];
}

/**
 * A host that records every line exactly as the command wrote it, without redaction, so a test can prove that a
 * secret was never written at all (the runner's masking is only the second net).
 */
export class RecordingHost implements Host {
  readonly lines: string[] = [];
  readonly secrets: string[] = [];
  private readonly onLine: ((line: string) => void) | undefined;
  constructor(onLine?: (line: string) => void) {
    this.onLine = onLine;
  }
  info(message: string): void {
    this.lines.push(message);
    this.onLine?.(message);
  }
  debug(message: string): void {
    this.lines.push(`debug: ${message}`);
  }
  warning(message: string, place?: AnnotationPlace): void {
    this.annotate('warning', message, place);
  }
  annotate(level: AnnotationLevel, message: string, place?: AnnotationPlace): void {
    this.lines.push(`${level}: ${place?.title ? `${place.title}: ` : ''}${message}`);
  }
  async group<T>(name: string, fn: () => Promise<T>): Promise<T> {
    this.lines.push(`group: ${name}`);
    return fn();
  }
  setOutput(): void {}
  secret(value: string): void {
    this.secrets.push(value);
  }
  async summary(): Promise<void> {}
}

/** Runs build-image in-process as the edge does: inputs validated and masked, outputs returned, failure reported. */
export async function runBuildImage(
  inputs: Record<string, string>,
  env: NodeJS.ProcessEnv,
  options: { signal?: AbortSignal; onLine?: (line: string) => void } = {},
): Promise<CommandRun> {
  const host = new RecordingHost(options.onLine);
  const summary = new SummaryBuilder();
  const clock = new PhaseClock();
  const signal = options.signal ?? AbortSignal.timeout(240_000);
  const run: CommandRun = { logs: host.lines, summary: '', phases: [], secrets: host.secrets };
  try {
    const parsed = readInputs(
      buildImageInputs,
      (name) => inputs[name],
      (secret) => host.secret(secret),
    );
    run.outputs = await buildImage.run(parsed, { host, summary, clock, signal, env });
  } catch (error) {
    run.error = error;
    reportFailure('build-image', error, host, summary);
  }
  run.summary = summary.toString();
  run.phases = clock.phases.map((phase) => `${phase.name}:${phase.outcome}`);
  return run;
}

/** A 0600 auth file for skopeo, so the tests too keep passwords off command lines. */
export function authFile(registry: string, user: string, password: string): string {
  const path = join(tempDir('auth'), 'auth.json');
  const auth = Buffer.from(`${user}:${password}`).toString('base64');
  writeFileSync(path, JSON.stringify({ auths: { [registry]: { auth } } }), { mode: 0o600 });
  return path;
}

/** skopeo's view of an image: digest and labels. `auth` is an auth file for the auth registry. */
export async function inspect(
  reference: string,
  auth?: string,
): Promise<{ Digest: string; Labels: Record<string, string> | null }> {
  const args = ['inspect', '--tls-verify=false'];
  if (auth) args.push('--authfile', auth);
  const { stdout } = await exec('skopeo', [...args, `docker://${reference}`]);
  return JSON.parse(stdout);
}

/** The tags of a repository as skopeo lists them; empty when the repository does not exist. */
export async function listTags(repository: string, auth?: string): Promise<string[]> {
  const args = ['list-tags', '--tls-verify=false'];
  if (auth) args.push('--authfile', auth);
  try {
    const { stdout } = await exec('skopeo', [...args, `docker://${repository}`]);
    return (JSON.parse(stdout) as { Tags: string[] | null }).Tags ?? [];
  } catch (error) {
    if (/name unknown|NAME_UNKNOWN|repository name not known|404 \(Not Found\)/i.test(String(error)))
      return [];
    throw error;
  }
}

/** The manifest as the registry stores it (skopeo --raw), for its annotations. */
export async function rawManifest(reference: string): Promise<{ annotations?: Record<string, string> }> {
  const { stdout } = await exec('skopeo', [
    'inspect',
    '--raw',
    '--tls-verify=false',
    `docker://${reference}`,
  ]);
  return JSON.parse(stdout);
}
