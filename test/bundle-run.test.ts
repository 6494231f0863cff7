// Runs the committed bundles the way the GitHub runner does: `node dist/index.js` with INPUT_* variables and the
// GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files, and checks what a workflow would see.
import { describe, expect, it } from 'vitest';
import { runBundle } from './support/runner.ts';

describe.each(['build-image', 'deploy-bluegreen', 'promote', 'audit'])('bundle of %s', (name) => {
  it('fails a missing required input with a message that names it, as a workflow error', () => {
    const run = runBundle(`actions/${name}/dist/index.js`, {});
    if (name === 'audit') return; // audit has no required input; covered below
    expect(run.status).toBe(1);
    const required = name === 'build-image' ? 'image' : 'app';
    expect(run.stdout).toMatch(
      new RegExp(`^::error title=${name}%3A input validation.*input \`${required}\` is required`, 'm'),
    );
    expect(run.summary).toContain(`${name} failed`);
    expect(run.outputs).toBe('');
  });
});

describe('root action bundle', () => {
  it('rejects an unknown command naming the input and the choices', () => {
    const run = runBundle('dist/index.js', { command: 'deploy' });
    expect(run.status).toBe(1);
    expect(run.stdout).toContain(
      'input `command` must be one of build-image|deploy-bluegreen|promote|audit, got "deploy"',
    );
  });

  it('runs the named action bundle with the same inputs', () => {
    const run = runBundle('dist/index.js', { command: 'promote', app: 'shop' });
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('input `namespace` is required');
    expect(run.stdout).not.toContain('input `app` is required');
  });
});

describe('bad input forms fail before any work, naming the input and the form', () => {
  it.each([
    [
      'deploy-bluegreen',
      { app: 'a', namespace: 'n', environment: 'e', timeout: 'soon' },
      'input `timeout` must be a duration',
    ],
    [
      'deploy-bluegreen',
      { app: 'a', namespace: 'n', environment: 'e', promote: 'yes' },
      'input `promote` must be one of manual|auto',
    ],
    [
      'promote',
      { app: 'a', namespace: 'n', environment: 'e', 'keep-previous': 'maybe' },
      'input `keep-previous` must be true or false',
    ],
    ['audit', { 'fail-on': 'sometimes' }, 'input `fail-on` must be one of error|warning|never'],
    [
      'deploy-bluegreen',
      { app: 'a', namespace: 'n', environment: 'e', 'health-checks': '- a: [' },
      'input `health-checks` must be valid YAML',
    ],
  ])('%s %j', (name, inputs, message) => {
    const run = runBundle(`actions/${name}/dist/index.js`, inputs);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain(message);
  });
});

describe('secret inputs', () => {
  it('are masked (add-mask) before anything else is printed', () => {
    const run = runBundle('actions/promote/dist/index.js', {
      token: 'ghp_secret_value_1',
      kubeconfig: 'kc-secret',
    });
    const lines = run.stdout.split('\n');
    expect(lines.slice(0, 2).sort()).toEqual(['::add-mask::ghp_secret_value_1', '::add-mask::kc-secret']);
    const rest = lines.filter((line) => !line.startsWith('::add-mask::')).join('\n');
    expect(rest).not.toContain('ghp_secret_value_1');
  });
});
