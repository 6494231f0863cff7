// The README's main job, run as a test: the whole pipeline with the committed bundles against testenv. The demo
// checks its own claims (automatic rollback, the same digest in production) and exits non-zero otherwise.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { repoRoot } from './runner.ts';

it('runs build -> audit -> deploy -> promote -> rollback -> production end to end', () => {
  const result = spawnSync(process.execPath, [join(repoRoot, 'e2e', 'demo.ts'), '--cleanup'], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 600_000,
  });
  expect(result.stdout).toContain('done. What happened:');
  expect(result.status, result.stdout.slice(-3000)).toBe(0);
  const out = join(repoRoot, 'out', 'demo');
  for (const file of [
    'README.md',
    '01-build-image.md',
    '02-audit.md',
    '03-deploy-bluegreen.md',
    '07-promote.md',
  ]) {
    expect(existsSync(join(out, file)), file).toBe(true);
  }
  expect(readFileSync(join(out, '07-promote.md'), 'utf8')).toContain('```mermaid');
  expect(JSON.parse(readFileSync(join(out, 'audit.sarif'), 'utf8')).version).toBe('2.1.0');
}, 660_000);
