// The `greenlight tags` command run as users run it: the CLI entry point in a child process, with the event in
// GITHUB_* variables and an event file, JSON on stdout.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const bin = join(import.meta.dirname, '..', '..', 'bin', 'greenlight.js');
const dir = mkdtempSync(join(tmpdir(), 'greenlight-tags-cli-'));
const SHA = '0123456789abcdef0123456789abcdef01234567';

function runTags(args: string[], event: Record<string, string>, payload: unknown = {}, cwd = dir) {
  const eventPath = join(dir, `event-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(eventPath, JSON.stringify(payload));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_SHA: SHA,
    GITHUB_REPOSITORY: 'acme/shop',
    ...event,
  };
  // Run from an empty directory by default, so no version file of this repository takes part.
  const result = spawnSync(process.execPath, [bin, 'tags', ...args], { env, cwd, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

// Each run starts a Node process that loads the whole CLI, which takes seconds on a busy machine.
describe('greenlight tags', { timeout: 60_000 }, () => {
  it('prints version, tags, labels, annotations and the explanation for a release tag', () => {
    const { status, stdout, stderr } = runTags(
      [
        '--image',
        'ghcr.io/acme/shop',
        '--tags',
        'type=semver,pattern={{version}}\ntype=semver,pattern={{major}}.{{minor}}',
        '--tags',
        'type=sha',
        '--existing-tags',
        'v1.0.0,v1.1.0',
      ],
      { GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/tags/v1.2.0' },
      { repository: { default_branch: 'main', description: 'The shop' } },
    );
    expect(stderr).toContain(
      'type=semver,pattern={{version}}: 1.2.0 <- {{version}} of 1.2.0 from tag v1.2.0',
    );
    expect(status).toBe(0);
    const out = JSON.parse(stdout) as Record<string, string>;
    expect(out.version).toBe('1.2.0');
    expect(out.release).toBe('1.2.0');
    expect(out.tags?.split('\n')).toEqual([
      'ghcr.io/acme/shop:1.2.0',
      'ghcr.io/acme/shop:1.2',
      'ghcr.io/acme/shop:sha-0123456',
      'ghcr.io/acme/shop:latest',
    ]);
    expect(out.labels).toContain('org.opencontainers.image.description=The shop');
    expect(out.annotations).toContain('org.opencontainers.image.version=1.2.0');
    expect(out.explanation).toContain(
      'flavor latest=auto: latest <- 1.2.0 is the highest release (existing highest 1.1.0)',
    );
    const json = JSON.parse(out.json as string);
    expect(json.tagNames).toEqual(['1.2.0', '1.2', 'sha-0123456', 'latest']);
    expect(json.explanation[0]).toEqual({
      rule: 'version source',
      produced: [],
      reason: 'version 1.2.0 from tag v1.2.0',
    });
  });

  it('uses the PR head commit and number from the event file', () => {
    const { status, stdout } = runTags(
      ['--image', 'ghcr.io/acme/shop', '--tags', 'type=ref,event=pr\ntype=sha'],
      { GITHUB_EVENT_NAME: 'pull_request', GITHUB_REF: 'refs/pull/42/merge' },
      { pull_request: { number: 42, head: { sha: 'f'.repeat(40), ref: 'feature' }, base: { ref: 'main' } } },
    );
    expect(status).toBe(0);
    expect(JSON.parse(stdout).tags.split('\n')).toEqual([
      'ghcr.io/acme/shop:pr-42',
      'ghcr.io/acme/shop:sha-fffffff',
    ]);
  });

  it('reads the version from RELEASE.txt on the default branch, with a monorepo prefix for existing tags', () => {
    const app = join(dir, 'app');
    mkdirSync(app, { recursive: true });
    writeFileSync(join(app, 'RELEASE.txt'), '# 2.1.0\n- faster\n');
    const { status, stdout } = runTags(
      [
        '--image',
        'ghcr.io/acme/api',
        '--tags',
        'type=semver,pattern={{version}}',
        '--version-dir',
        app,
        '--tag-prefix',
        'api/',
        '--existing-tags',
        'api/v3.0.0,web/v9.0.0',
      ],
      { GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/heads/main' },
      { repository: { default_branch: 'main' } },
    );
    expect(status).toBe(0);
    const out = JSON.parse(stdout);
    expect(out.tags).toBe('ghcr.io/acme/api:2.1.0');
    expect(out.explanation).toContain('2.1.0 is lower than the existing release 3.0.0 (a backport)');
  });

  it('reads the version files of the current directory when no --version-dir is given', () => {
    const app = join(dir, 'node-app');
    mkdirSync(app, { recursive: true });
    writeFileSync(join(app, 'package.json'), '{"name":"shop","version":"3.4.5"}');
    const { status, stdout } = runTags(
      ['--image', 'ghcr.io/acme/shop', '--tags', 'type=semver,pattern={{major}}.{{minor}}'],
      { GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/heads/main' },
      { repository: { default_branch: 'main' } },
      app,
    );
    expect(status).toBe(0);
    const out = JSON.parse(stdout);
    expect(out.tags).toBe('ghcr.io/acme/shop:3.4\nghcr.io/acme/shop:latest');
    expect(out.explanation).toContain('version 3.4.5 from package.json');
  });

  it('fails with exit code 1 and says what is wrong in a rule', () => {
    const { status, stdout, stderr } = runTags(
      ['--image', 'ghcr.io/acme/shop', '--tags', 'type=semver,patern={{version}}'],
      {
        GITHUB_EVENT_NAME: 'push',
        GITHUB_REF: 'refs/heads/main',
      },
    );
    expect(status).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain(
      'tag rule "type=semver,patern={{version}}" failed: type=semver has no attribute patern=',
    );
  });

  it('is listed in the CLI help', () => {
    const result = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
    expect(result.stdout).toMatch(/tags\s+Compute image tags/);
  });
});
