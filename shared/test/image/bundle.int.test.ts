// The committed bundle actions/build-image/dist/index.js, run as the GitHub runner runs it (INPUT_* variables,
// GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, a bare environment), against testenv's registries.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBundle } from '../../../test/support/runner.ts';
import { authFile, inspect, listTags, removeTempDirs, tempDir, testenv, unique } from './support.ts';

const env = testenv();
afterAll(removeTempDirs);
const BUNDLE = 'actions/build-image/dist/index.js';

/** Parses the GITHUB_OUTPUT file (`name<<delimiter` blocks) into outputs. */
function parseOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const match = /^([^<]+)<<(.+)$/.exec(lines[i] as string);
    if (!match) continue;
    const [, name, delimiter] = match as unknown as [string, string, string];
    const value: string[] = [];
    for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i] as string);
    outputs[name] = value.join('\n');
  }
  return outputs;
}

/** A context the runner's bare environment can build: FROM scratch, so no base image is pulled. */
function scratchContext(content: string): string {
  const dir = tempDir('bundle-context');
  writeFileSync(join(dir, 'hello.txt'), `${content}\n`);
  writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\nCOPY hello.txt /hello.txt\n');
  return dir;
}

describe('the committed build-image bundle', () => {
  it('builds, pushes and tags; outputs and the job summary are what a workflow sees', async () => {
    const repository = `${env.registry}/${unique('bundle')}/app`;
    const run = runBundle(BUNDLE, {
      image: repository,
      context: scratchContext('from the bundle'),
      tags: 'type=raw,value=edge\ntype=raw,value=candidate',
    });
    expect(run.status, run.stdout).toBe(0);
    const outputs = parseOutputs(run.outputs);
    expect(outputs.digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(outputs.image).toBe(`${repository}@${outputs.digest}`);
    expect(outputs.tags?.split('\n').sort()).toEqual([`${repository}:candidate`, `${repository}:edge`]);
    expect(JSON.parse(outputs.json as string)).toMatchObject({ digest: outputs.digest, pushed: true });
    expect(run.stdout).toContain('::group::Build with buildah');
    expect(run.summary).toContain(`\`${outputs.image}\``);
    expect(run.summary).toContain(`| \`${repository}:edge\` | pushed |`);
    for (const tag of ['edge', 'candidate'])
      expect((await inspect(`${repository}:${tag}`)).Digest).toBe(outputs.digest);
  });

  it('masks the password, fails the step with an error annotation, and pushes nothing on a wrong password', async () => {
    const repository = `${env.authRegistry}/${unique('bundle')}/app`;
    const wrong = `wrong-${unique('pw')}`;
    const run = runBundle(BUNDLE, {
      image: repository,
      context: scratchContext('never pushed'),
      tags: 'type=raw,value=x',
      username: env.user,
      password: wrong,
    });
    expect(run.status).toBe(1);
    expect(run.stdout).toContain(`::add-mask::${wrong}`);
    expect(run.stdout).toMatch(/^::error title=build-image%3A registry check \(push\)::.*refused user/m);
    expect(run.stdout.replace(`::add-mask::${wrong}`, '')).not.toContain(wrong);
    expect(run.summary).toContain('❌ build-image failed');
    expect(run.outputs).toBe('');
    expect(await listTags(repository, authFile(env.authRegistry, env.user, env.password))).toEqual([]);
  });
});
