#!/usr/bin/env node
// The `greenlight` command. The CLI is TypeScript run by Node 24 directly; on an older Node this re-runs itself
// with the project's Node 24 (scripts/node24), so `npx greenlight` works from any shell after set-up.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  const launcher = fileURLToPath(new URL('../../scripts/node24', import.meta.url));
  const script = fileURLToPath(import.meta.url);
  const result = spawnSync('sh', [launcher, script, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}
const { main } = await import('../src/cli.ts');
process.exitCode = await main(process.argv.slice(2));
