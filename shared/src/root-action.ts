const COMMANDS = ['build-image', 'deploy-bluegreen', 'promote', 'audit'];

/**
 * The root action's entry point: runs the action named by the `command` input. Each action's committed bundle
 * reads the same INPUT_* variables, so the root action only picks which bundle to load. It has no dependencies
 * of its own, so it stays a few hundred bytes.
 */
export async function runRootAction(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const command = (env.INPUT_COMMAND ?? '').trim();
  if (!COMMANDS.includes(command)) {
    const problem = command
      ? `input \`command\` must be one of ${COMMANDS.join('|')}, got "${command}"`
      : `input \`command\` is required and was not given (one of ${COMMANDS.join('|')})`;
    process.stdout.write(
      `::error title=greenlight::${problem.replace(/%/g, '%25').replace(/\r?\n/g, '%0A')}\n`,
    );
    process.exitCode = 1;
    return;
  }
  const bundle = new URL(`../actions/${command}/dist/index.js`, import.meta.url);
  await import(bundle.href);
}
