// Runs a committed bundle the way the GitHub runner does: `node dist/index.js` with INPUT_* variables, and the
// GITHUB_OUTPUT, GITHUB_STEP_SUMMARY and GITHUB_EVENT_PATH files; returns what a workflow would see.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');

/** Runs `bundle` (relative to the repository) with `inputs` as the runner passes them. */
export function runBundle(bundle: string, inputs: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'greenlight-run-'));
  const files = {
    output: join(dir, 'output'),
    summary: join(dir, 'summary'),
    event: join(dir, 'event.json'),
  };
  writeFileSync(files.output, '');
  writeFileSync(files.summary, '');
  writeFileSync(files.event, '{}');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? dir,
    GITHUB_ACTIONS: 'true',
    GITHUB_OUTPUT: files.output,
    GITHUB_STEP_SUMMARY: files.summary,
    GITHUB_EVENT_PATH: files.event,
    GITHUB_EVENT_NAME: 'push',
    GITHUB_WORKSPACE: dir,
    RUNNER_TEMP: dir,
  };
  for (const [name, value] of Object.entries(inputs))
    env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
  const result = spawnSync(process.execPath, [join(root, bundle)], { env, encoding: 'utf8', cwd: dir });
  return {
    status: result.status,
    stdout: result.stdout,
    outputs: readFileSync(files.output, 'utf8'),
    summary: readFileSync(files.summary, 'utf8'),
  };
}
