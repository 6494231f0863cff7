// Runs a committed action bundle exactly as the GitHub runner does: `node <action>/dist/index.js` with INPUT_*
// variables, GITHUB_* context variables, an event file, and the GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files.
// Used by the demo pipeline and the end-to-end tests.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const repoRoot = join(import.meta.dirname, '..');

/** The GitHub context of a simulated workflow run. */
export interface RunContext {
  eventName: string;
  ref: string;
  sha: string;
  /** The event payload written to GITHUB_EVENT_PATH. */
  event?: Record<string, unknown>;
  repository?: string;
  runId?: string;
  actor?: string;
}

export interface StepResult {
  status: number;
  outputs: Record<string, string>;
  summary: string;
  log: string;
}

/** Parses a GITHUB_OUTPUT file (`name<<delimiter` blocks and `name=value` lines) into a record. */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i] as string;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name, delimiter] = heredoc as unknown as [string, string, string];
      const value: string[] = [];
      for (i += 1; i < lines.length && lines[i] !== delimiter; i += 1) value.push(lines[i] as string);
      outputs[name] = value.join('\n');
    } else if (line.includes('=')) {
      const at = line.indexOf('=');
      outputs[line.slice(0, at)] = line.slice(at + 1);
    }
  }
  return outputs;
}

export interface RunOptions {
  context: RunContext;
  /** Extra environment (KUBECONFIG, registry auth files) on top of PATH and HOME. */
  env?: Record<string, string>;
  /** Called with each log line as it arrives. */
  onLine?: (line: string) => void;
  workspace?: string;
  signal?: AbortSignal;
}

/** What a prepared step needs: the bundle, its environment, the runner files and a cleanup. */
export interface PreparedStep {
  bundle: string;
  env: Record<string, string>;
  cwd: string;
  /** Reads the outputs file (raw) and the summary after the step ran, then removes the temporary files. */
  finish(): { outputsText: string; summary: string };
}

/**
 * Prepares `actions/<action>/dist/index.js` (or the root `dist/index.js` when action is `.`; or a path ending in
 * `.js` relative to the repository) to run with `inputs`, as the runner would.
 */
export function prepareStep(
  action: string,
  inputs: Record<string, string>,
  options: Omit<RunOptions, 'onLine' | 'signal'>,
): PreparedStep {
  const temp = mkdtempSync(join(tmpdir(), 'greenlight-step-'));
  const files = {
    output: join(temp, 'output'),
    summary: join(temp, 'summary'),
    event: join(temp, 'event.json'),
  };
  writeFileSync(files.output, '');
  writeFileSync(files.summary, '');
  writeFileSync(files.event, JSON.stringify(options.context.event ?? {}));
  const workspace = options.workspace ?? repoRoot;
  mkdirSync(join(temp, 'runner-temp'), { recursive: true });
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? temp,
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_EVENT_NAME: options.context.eventName,
    GITHUB_EVENT_PATH: files.event,
    GITHUB_REF: options.context.ref,
    GITHUB_REF_NAME: options.context.ref.replace(/^refs\/(heads|tags)\//, ''),
    GITHUB_SHA: options.context.sha,
    GITHUB_REPOSITORY: options.context.repository ?? 'greenlight/demo',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_RUN_ID: options.context.runId ?? '1',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_ACTOR: options.context.actor ?? 'demo',
    GITHUB_WORKSPACE: workspace,
    GITHUB_OUTPUT: files.output,
    GITHUB_STEP_SUMMARY: files.summary,
    RUNNER_TEMP: join(temp, 'runner-temp'),
    ...options.env,
  };
  for (const [name, value] of Object.entries(inputs))
    env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
  const bundle = action.endsWith('.js')
    ? join(repoRoot, action)
    : action === '.'
      ? join(repoRoot, 'dist', 'index.js')
      : join(repoRoot, 'actions', action, 'dist', 'index.js');
  return {
    bundle,
    env,
    cwd: workspace,
    finish() {
      const result = {
        outputsText: readFileSync(files.output, 'utf8'),
        summary: readFileSync(files.summary, 'utf8'),
      };
      rmSync(temp, { recursive: true, force: true });
      return result;
    },
  };
}

/** Runs `actions/<action>/dist/index.js` (or the root `dist/index.js` when action is `.`) with `inputs`. */
export async function runStep(
  action: string,
  inputs: Record<string, string>,
  options: RunOptions,
): Promise<StepResult> {
  const step = prepareStep(action, inputs, options);
  const child = spawn(process.execPath, [step.bundle], {
    env: step.env,
    cwd: step.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const onAbort = () => child.kill('SIGTERM');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const log: string[] = [];
  const collect = (stream: NodeJS.ReadableStream) => {
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        log.push(line);
        options.onLine?.(line);
      }
    });
    stream.on('end', () => {
      if (rest) {
        log.push(rest);
        options.onLine?.(rest);
      }
    });
  };
  collect(child.stdout);
  collect(child.stderr);
  const status = await new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
  options.signal?.removeEventListener('abort', onAbort);
  const { outputsText, summary } = step.finish();
  return { status, outputs: parseOutputFile(outputsText), summary, log: log.join('\n') };
}
