// vitest globalSetup for the integration project: brings the test environment
// up once per run (building what is missing), and takes it down afterwards if
// this run started it. When a test failed, the component logs are kept and
// their paths printed.
import { componentLogs, down, status, type UpResult, up } from './environment.ts';

/** The part of vitest's TestProject this set-up reads (kept loose on purpose). */
interface ProjectLike {
  vitest?: {
    state?: { getCountOfFailedTests?: () => number; getFiles?: () => { result?: { state?: string } }[] };
  };
}

function failures(project: ProjectLike | undefined): number {
  const state = project?.vitest?.state;
  if (!state) return 0;
  // A failed test, or a file that failed outside any test (an import or hook error).
  const failedTests = state.getCountOfFailedTests?.() ?? 0;
  if (failedTests > 0) return failedTests;
  return (state.getFiles?.() ?? []).filter((file) => file.result?.state === 'fail').length;
}

export default async function setup(project?: ProjectLike): Promise<() => Promise<void>> {
  const log = (line: string) => process.stderr.write(`testenv: ${line}\n`);
  const wasUp = (await status()).up;
  let result: UpResult;
  try {
    result = await up({ log });
  } catch (error) {
    log('could not bring the environment up; component logs kept:');
    for (const file of componentLogs()) log(`  ${file}`);
    // Leave no process behind that this run started.
    if (!wasUp) await down({ log, removeLogs: false });
    throw error;
  }
  Object.assign(process.env, result.env);
  log(
    result.started
      ? `up in ${(result.ms / 1000).toFixed(1)} s (started ${result.startedComponents.join(', ')})`
      : 'reusing the running environment',
  );
  return async () => {
    const failed = failures(project);
    if (failed > 0) {
      log(`${failed} failed; component logs kept:`);
      for (const file of componentLogs()) log(`  ${file}`);
    }
    if (result.started && process.env.TESTENV_KEEP !== '1') {
      await down({ log, removeLogs: failed === 0 });
    } else if (result.started) {
      log('TESTENV_KEEP=1: leaving the environment up (npm run testenv -- down stops it)');
    }
  };
}
