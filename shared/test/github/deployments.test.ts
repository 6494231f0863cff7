import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type GitHubFake, startGitHubFake } from '../../../test/support/github-fake.ts';
import {
  explainApiFailure,
  isProductionName,
  runLogUrl,
  shortDescription,
  startDeployment,
} from '../../src/github/deployments.ts';
import { CliHost } from '../../src/runtime/host.ts';

let fake: GitHubFake;
beforeAll(async () => {
  fake = await startGitHubFake();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.violations.length = 0;
  fake.deployments.clear();
});

const TOKEN = 'ghs_secretvalue1234567890';

function setup(extraEnv: NodeJS.ProcessEnv = {}) {
  const lines: string[] = [];
  const host = new CliHost({ write: (line) => lines.push(line) });
  host.secret(TOKEN);
  const env: NodeJS.ProcessEnv = {
    GITHUB_REPOSITORY: 'octo/shop',
    GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
    GITHUB_API_URL: fake.url,
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_RUN_ID: '4242',
    ...extraEnv,
  };
  return { lines, host, env };
}

describe('startDeployment against the GitHub fake', () => {
  it('creates a deployment and posts in_progress then success with the environment URL', async () => {
    const { host, env, lines } = setup();
    const tracker = await startDeployment({
      token: TOKEN,
      environment: 'production',
      description: 'api 1.4.2 to green',
      payload: { app: 'api', revision: '7' },
      host,
      env,
    });
    expect(tracker.id).toBeTypeOf('number');
    await tracker.report('in_progress', 'flipping traffic to green');
    await tracker.report('success', 'green is live', 'https://api.example.com');
    const { deployment, statuses } = fake.onlyDeployment();
    expect(deployment.environment).toBe('production');
    expect(deployment.production_environment).toBe(true);
    expect(deployment.payload).toEqual({ app: 'api', revision: '7' });
    expect(statuses.map((s) => s.state)).toEqual(['in_progress', 'success']);
    expect(statuses[1]?.environment_url).toBe('https://api.example.com');
    expect(statuses[1]?.log_url).toBe('https://github.com/octo/shop/actions/runs/4242');
    // The token goes in the Authorization header and nowhere else.
    expect(fake.requests.every((r) => r.authorization === `token ${TOKEN}`)).toBe(true);
    expect(lines.join('\n')).not.toContain(TOKEN);
    expect(fake.violations).toEqual([]);
  });

  it("posts failure with a description cut to GitHub's 140 characters", async () => {
    const { host, env } = setup();
    const tracker = await startDeployment({
      token: TOKEN,
      environment: 'staging',
      description: 'x',
      host,
      env,
    });
    await tracker.report('failure', `verification failed: ${'error rate too high '.repeat(20)}`);
    const { statuses, deployment } = fake.onlyDeployment();
    expect(deployment.production_environment).toBe(false);
    expect(statuses[0]?.state).toBe('failure');
    expect(String(statuses[0]?.description).length).toBeLessThanOrEqual(140);
    expect(fake.violations).toEqual([]);
  });

  it('does nothing without a token, and says so', async () => {
    const { host, env, lines } = setup();
    const before = fake.requests.length;
    const tracker = await startDeployment({
      token: undefined,
      environment: 'staging',
      description: 'x',
      host,
      env,
    });
    await tracker.report('success', 'done');
    expect(tracker.id).toBeUndefined();
    expect(fake.requests.length).toBe(before);
    expect(fake.deployments.size).toBe(0);
    expect(lines.join('\n')).toMatch(/No `token` given/);
  });

  it('warns and carries on outside a repository', async () => {
    const { host, env, lines } = setup({ GITHUB_REPOSITORY: '' });
    const tracker = await startDeployment({
      token: TOKEN,
      environment: 'staging',
      description: 'x',
      host,
      env,
    });
    expect(tracker.id).toBeUndefined();
    expect(lines.join('\n')).toMatch(/GITHUB_REPOSITORY/);
  });

  it('warns with a permission hint when GitHub refuses, and carries on', async () => {
    const { host, env, lines } = setup();
    fake.failNext('repos/create-deployment', 403, 'Resource not accessible by integration');
    const tracker = await startDeployment({
      token: TOKEN,
      environment: 'staging',
      description: 'x',
      host,
      env,
    });
    await tracker.report('success', 'done');
    expect(tracker.id).toBeUndefined();
    const log = lines.join('\n');
    expect(log).toMatch(/403/);
    expect(log).toMatch(/deployments: write/);
    expect(log).not.toContain(TOKEN);
    expect(fake.violations).toEqual([]);
  });

  it('warns when a status cannot be posted, without throwing', async () => {
    const { host, env, lines } = setup();
    const tracker = await startDeployment({
      token: TOKEN,
      environment: 'staging',
      description: 'x',
      host,
      env,
    });
    fake.failNext('repos/create-deployment-status', 500, 'Server Error');
    await tracker.report('in_progress', 'going');
    await tracker.report('success', 'done');
    expect(fake.onlyDeployment().statuses.map((s) => s.state)).toEqual(['success']);
    expect(lines.join('\n')).toMatch(/posting status "in_progress".*500/);
    expect(fake.violations).toEqual([]);
  });
});

describe('GitHub deployment helpers', () => {
  it.each([
    ['production', true],
    ['Prod', true],
    ['live', true],
    ['staging', false],
    ['production-eu', false],
  ])('isProductionName(%s) is %s', (name, expected) => expect(isProductionName(name)).toBe(expected));

  it('keeps short descriptions and cuts long ones to 140 characters on one line', () => {
    expect(shortDescription('a\n b')).toBe('a b');
    const long = shortDescription('y'.repeat(300));
    expect(long.length).toBe(140);
    expect(long.endsWith('…')).toBe(true);
  });

  it('builds the run URL only when the run is known', () => {
    expect(runLogUrl({ GITHUB_REPOSITORY: 'o/r', GITHUB_RUN_ID: '9' })).toBe(
      'https://github.com/o/r/actions/runs/9',
    );
    expect(runLogUrl({ GITHUB_REPOSITORY: 'o/r' })).toBeUndefined();
  });

  it.each([
    [401, /invalid or expired/],
    [403, /deployments: write/],
    [404, /deployments: write/],
    [409, /refused/],
    [500, /reachable/],
  ])('explains a %s', (status, hint) => {
    expect(explainApiFailure(Object.assign(new Error('boom'), { status }), 'o/r').hint).toMatch(hint);
  });
});
