// shared/src/root-action.ts
var COMMANDS = ["build-image", "deploy-bluegreen", "promote", "audit"];
async function runRootAction(env = process.env) {
  let command = (env.INPUT_COMMAND ?? "").trim();
  if (!COMMANDS.includes(command)) {
    let problem = command ? `input \`command\` must be one of ${COMMANDS.join("|")}, got "${command}"` : `input \`command\` is required and was not given (one of ${COMMANDS.join("|")})`;
    process.stdout.write(
      `::error title=greenlight::${problem.replace(/%/g, "%25").replace(/\r?\n/g, "%0A")}
`
    ), process.exitCode = 1;
    return;
  }
  await import(new URL(`../actions/${command}/dist/index.js`, import.meta.url).href);
}

// src/main.ts
await runRootAction();
