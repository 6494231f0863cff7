// The committed bundle actions/audit/dist/index.js, run as the GitHub runner runs it (INPUT_* variables, the
// GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, a bare environment), on the sample chart with testenv's helm.
import { mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import Ajv04 from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import { beforeAll, describe, expect, it } from 'vitest';
import { runBundle } from '../../../test/support/runner.ts';
import { loadEnv } from '../../../testenv/src/index.ts';

const BUNDLE = 'actions/audit/dist/index.js';
const CHART = join(import.meta.dirname, '..', '..', '..', 'examples', 'chart', 'demo-app');
const schema = JSON.parse(
  readFileSync(join(import.meta.dirname, 'fixtures', 'sarif-schema-2.1.0.json'), 'utf8'),
);

function parseOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const match = /^([^<]+)<<(.+)$/.exec(lines[i] as string);
    if (!match) continue;
    const value: string[] = [];
    for (i++; i < lines.length && lines[i] !== match[2]; i++) value.push(lines[i] as string);
    outputs[match[1] as string] = value.join('\n');
  }
  return outputs;
}

beforeAll(() => {
  // The runner finds helm on PATH, as on GitHub's runners.
  const bin = mkdtempSync(join(tmpdir(), 'gl-helm-bin-'));
  symlinkSync(loadEnv().TESTENV_HELM4, join(bin, 'helm'));
  process.env.PATH = `${bin}${delimiter}${process.env.PATH ?? ''}`;
});

describe('the committed audit bundle', () => {
  it('annotates the template line, writes a valid SARIF file and fails on an error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gl-audit-bundle-'));
    const sarifFile = join(dir, 'audit.sarif');
    const run = runBundle(BUNDLE, {
      path: CHART,
      set: 'image.tag=latest',
      format: 'annotations,summary,sarif',
      'sarif-file': sarifFile,
    });
    expect(run.status, run.stdout).toBe(1);
    expect(run.stdout).toMatch(
      /::error title=GL-IMG-001 [^,]*,file=[^,]*templates\/deployment\.yaml,line=33,/,
    );
    expect(run.stdout).toContain('audit gate failed: 1 error and 1 warning reported (fail-on: error)');
    const outputs = parseOutputs(run.outputs);
    expect(outputs).toMatchObject({ findings: '3', errors: '1', warnings: '1', 'sarif-file': sarifFile });
    const ajv = new Ajv04({ strict: false });
    addFormats(ajv);
    const log = JSON.parse(readFileSync(sarifFile, 'utf8'));
    expect(ajv.validate(schema, log), JSON.stringify(ajv.errors)).toBe(true);
    expect(run.summary).toContain('## Audit: 3 findings');
    expect(run.summary).toContain('| 🔴 | GL-IMG-001 | Deployment demo-app |');
  });

  it('passes with fail-on never and still sets the outputs', () => {
    const run = runBundle(BUNDLE, {
      path: CHART,
      set: 'image.tag=latest',
      'fail-on': 'never',
      format: 'summary',
    });
    expect(run.status, run.stdout).toBe(0);
    expect(parseOutputs(run.outputs)).toMatchObject({ findings: '3', errors: '1' });
  });

  it('fails with a clear message when there is nothing to audit', () => {
    const run = runBundle(BUNDLE, {});
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('nothing to audit: give `path`');
  });
});
