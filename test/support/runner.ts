// Runs a committed bundle the way the GitHub runner does, synchronously, for tests that check what a workflow
// would see. The runner environment itself is built by e2e/runner.ts, shared with the demo.
import { spawnSync } from 'node:child_process';
import { prepareStep } from '../../e2e/runner.ts';

export interface BundleRun {
  status: number | null;
  /** stdout, where the runner reads workflow commands (annotations, masks) and most logs. */
  stdout: string;
  stderr: string;
  /** The GITHUB_OUTPUT file as the action wrote it. */
  outputs: string;
  summary: string;
}

/**
 * Runs `bundle` (a path relative to the repository, such as `actions/audit/dist/index.js`) with `inputs`, for a
 * push event, in a fresh workspace unless `options.workspace` is given; `options.env` adds variables.
 */
export function runBundle(
  bundle: string,
  inputs: Record<string, string>,
  options: { env?: Record<string, string>; workspace?: string } = {},
): BundleRun {
  const step = prepareStep(bundle, inputs, {
    context: { eventName: 'push', ref: 'refs/heads/main', sha: '0'.repeat(40) },
    env: options.env,
    workspace: options.workspace,
  });
  const result = spawnSync(process.execPath, [step.bundle], {
    env: step.env,
    cwd: step.cwd,
    encoding: 'utf8',
  });
  const { outputsText, summary } = step.finish();
  return {
    status: result.status,
    stdout: result.stdout,
    stderr: result.stderr,
    outputs: outputsText,
    summary,
  };
}
