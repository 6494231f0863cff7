// The example workflows are valid workflow syntax (actionlint, built by scripts/setup) and use only inputs the
// Greenlight actions declare, with every required input given.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = join(import.meta.dirname, '..');
const dir = join(root, 'examples', 'workflows');
const workflows = readdirSync(dir).filter((file) => file.endsWith('.yml'));
const actionlint = join(root, '.tools', 'bin', 'actionlint');

interface Step {
  uses?: string;
  with?: Record<string, unknown>;
}
interface Workflow {
  jobs: Record<string, { steps?: Step[] }>;
}
interface ActionYaml {
  inputs: Record<string, { required?: boolean; default?: string }>;
}

/** Which action.yml a `uses:` of ours points to: `<owner>/greenlight/actions/<name>@ref` or the root action. */
function ourAction(uses: string): string | undefined {
  const match = /^[\w.-]+\/greenlight(?:\/actions\/([\w-]+))?@/.exec(uses);
  if (!match) return undefined;
  return match[1] ? join(root, 'actions', match[1], 'action.yml') : join(root, 'action.yml');
}

it('there are example workflows', () => {
  expect(workflows.length).toBeGreaterThanOrEqual(2);
});

describe.each(workflows)('examples/workflows/%s', (file) => {
  const path = join(dir, file);

  it('passes actionlint', () => {
    expect(existsSync(actionlint), 'actionlint is built by scripts/setup').toBe(true);
    const out = execFileSync(actionlint, ['-no-color', path], { encoding: 'utf8' });
    expect(out).toBe('');
  });

  it('passes only declared inputs to Greenlight actions and every required one', () => {
    const workflow = parse(readFileSync(path, 'utf8')) as Workflow;
    const steps = Object.values(workflow.jobs).flatMap((job) => job.steps ?? []);
    const ours = steps.filter((step) => step.uses && ourAction(step.uses));
    expect(ours.length).toBeGreaterThan(0);
    for (const step of ours) {
      const action = parse(readFileSync(ourAction(step.uses as string) as string, 'utf8')) as ActionYaml;
      const given = Object.keys(step.with ?? {});
      for (const input of given)
        expect(Object.keys(action.inputs), `${step.uses} input ${input}`).toContain(input);
      for (const [input, spec] of Object.entries(action.inputs)) {
        if (spec.required) expect(given, `${step.uses} needs ${input}`).toContain(input);
      }
    }
  });
});
