import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');

it('every committed dist bundle and the root action.yml match a fresh build', () => {
  const out = execFileSync(process.execPath, [join(root, 'scripts', 'build.ts'), '--check'], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  expect(out).toContain('every committed bundle matches a fresh build');
}, 120_000);
