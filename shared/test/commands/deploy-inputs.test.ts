// deploy-bluegreen's input errors that the inputs alone can tell, run through the command as the action runs it.
// KUBECONFIG names a file that does not exist, so a step that got as far as the cluster would fail with that
// instead: the only error must be the input error.
import { describe, expect, it } from 'vitest';
import { manifestWorkspace, runDeployCommand } from '../bluegreen/command-run.ts';

const workspace = manifestWorkspace('web', { web: 'registry.example.com/shop/web:latest' });
const valid = {
  app: 'web',
  namespace: 'shop',
  environment: 'staging',
  manifests: 'manifests/web.yaml',
  images: `registry.example.com/shop/web@sha256:${'a'.repeat(64)}`,
};

async function inputError(inputs: Record<string, string>): Promise<string> {
  const run = await runDeployCommand(inputs, {
    KUBECONFIG: '/nonexistent/kubeconfig',
    GITHUB_WORKSPACE: workspace,
  });
  expect(run.outputs).toBeUndefined();
  expect(run.errors).toHaveLength(1);
  const [error] = run.errors;
  expect(error).not.toContain('KUBECONFIG');
  expect(error).toContain('input validation');
  return error as string;
}

describe('deploy-bluegreen: chart inputs given with manifests', () => {
  it.each([
    ['set', 'replicas=3'],
    ['values-files', 'values/prod.yaml'],
    ['chart-version', '1.2.3'],
  ])('%s with manifests is an input error naming it', async (name, value) => {
    const error = await inputError({ ...valid, [name]: value });
    expect(error).toContain(`input \`${name}\` applies to \`chart\` only`);
  });

  it('names each of them in one error', async () => {
    const error = await inputError({
      ...valid,
      set: 'a=1',
      'values-files': 'values.yaml',
      'chart-version': '1.0.0',
    });
    expect(error).toContain('3 problems');
    for (const name of ['chart-version', 'values-files', 'set'])
      expect(error).toContain(`input \`${name}\` applies to \`chart\` only`);
  });

  it('with chart and manifests both, says only that', async () => {
    const error = await inputError({ ...valid, chart: 'chart', set: 'a=1' });
    expect(error).toContain('give either `chart` or `manifests`, not both');
    expect(error).not.toContain('applies to `chart` only');
  });
});

describe('deploy-bluegreen: a gate placeholder the product does not know', () => {
  it('is an input error of health-checks before anything is rendered or applied', async () => {
    const error = await inputError({
      ...valid,
      'health-checks': '- prometheus: { query: \'errors{color="{{colour}}"}\', max: 0.01 }',
    });
    expect(error).toContain(
      'health-checks[0].prometheus: unknown placeholder {{colour}} in `query` (known: {{app}}, {{color}}, {{namespace}}, {{environment}}, {{revision}})',
    );
  });
});

describe('deploy-bluegreen: promote windows with promote: manual', () => {
  it.each([
    ['verify-for', '5m', 'input `verify-for` (5m00s) applies to `promote: auto` only'],
    ['scale-down-delay', '10s', 'input `scale-down-delay` (10s) applies to `promote: auto` only'],
  ])('%s is an input error naming it', async (name, value, message) => {
    const error = await inputError({ ...valid, promote: 'manual', [name]: value });
    expect(error).toContain(message);
  });

  it('is an input error also when promote is left at its default (manual)', async () => {
    const error = await inputError({ ...valid, 'verify-for': '2m', 'scale-down-delay': '1s' });
    expect(error).toContain('2 problems');
  });

  it('is not one at the defaults, which the runner passes when the inputs are left out', async () => {
    // Past the input checks, the step reaches for the cluster and fails on KUBECONFIG.
    const run = await runDeployCommand(
      { ...valid, promote: 'manual', 'verify-for': '60s', 'scale-down-delay': '30s' },
      { KUBECONFIG: '/nonexistent/kubeconfig', GITHUB_WORKSPACE: workspace },
    );
    expect(run.errors.join('\n')).toContain('/nonexistent/kubeconfig');
    expect(run.errors.join('\n')).not.toContain('input validation');
  });

  it('parses them as promote does', async () => {
    const error = await inputError({ ...valid, promote: 'auto', 'verify-for': '1 minute' });
    expect(error).toContain('input `verify-for` must be a duration such as 90s, 5m or 1h30m, got "1 minute"');
  });
});
