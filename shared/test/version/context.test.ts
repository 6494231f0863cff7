import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GreenlightError } from '../../src/runtime/errors.ts';
import {
  branchOf,
  buildCommit,
  type GitContext,
  gitContextFromEnv,
  isPullRequest,
  tagOf,
} from '../../src/version/context.ts';

const dir = mkdtempSync(join(tmpdir(), 'greenlight-context-'));

function eventFile(name: string, payload: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof payload === 'string' ? payload : JSON.stringify(payload));
  return path;
}

const base = {
  GITHUB_REPOSITORY: 'acme/shop',
  GITHUB_SHA: 'a'.repeat(40),
  GITHUB_RUN_ID: '42',
  GITHUB_ACTOR: 'octo',
};

describe('gitContextFromEnv', () => {
  it.each<[string, NodeJS.ProcessEnv, unknown, Partial<GitContext>]>([
    [
      'a branch push',
      { GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/heads/main' },
      {
        repository: { default_branch: 'main', description: 'Shop', license: { spdx_id: 'MIT' } },
        head_commit: { timestamp: '2026-01-01T10:00:00Z' },
      },
      {
        eventName: 'push',
        ref: 'refs/heads/main',
        defaultBranch: 'main',
        description: 'Shop',
        license: 'MIT',
        commitDate: '2026-01-01T10:00:00Z',
        serverUrl: 'https://github.com',
      },
    ],
    [
      'a pull request',
      {
        GITHUB_EVENT_NAME: 'pull_request',
        GITHUB_REF: 'refs/pull/7/merge',
        GITHUB_HEAD_REF: 'feature/x',
        GITHUB_BASE_REF: 'main',
      },
      {
        number: 7,
        pull_request: { number: 7, head: { sha: 'b'.repeat(40), ref: 'feature/x' }, base: { ref: 'main' } },
      },
      { prNumber: 7, headSha: 'b'.repeat(40), headRef: 'feature/x', baseRef: 'main' },
    ],
    [
      'a release',
      { GITHUB_EVENT_NAME: 'release', GITHUB_REF: 'refs/tags/v2.0.0-rc.1' },
      { release: { tag_name: 'v2.0.0-rc.1', prerelease: true } },
      { release: { tagName: 'v2.0.0-rc.1', prerelease: true } },
    ],
    [
      'a dispatch with inputs',
      {
        GITHUB_EVENT_NAME: 'workflow_dispatch',
        GITHUB_REF: 'refs/heads/main',
        GITHUB_SERVER_URL: 'https://ghe.local',
      },
      { inputs: { version: '1.2.3', dry: false, empty: '' } },
      { inputs: { version: '1.2.3', dry: 'false' }, serverUrl: 'https://ghe.local' },
    ],
  ])('reads %s', (_name, env, payload, expected) => {
    const context = gitContextFromEnv({
      ...base,
      ...env,
      GITHUB_EVENT_PATH: eventFile(`${_name}.json`, payload),
    });
    expect(context).toMatchObject({
      sha: 'a'.repeat(40),
      repository: 'acme/shop',
      runId: '42',
      actor: 'octo',
    });
    expect(context).toMatchObject(expected);
  });

  it('works without an event file, taking the PR number from the ref', () => {
    const context = gitContextFromEnv({
      GITHUB_EVENT_NAME: 'pull_request_target',
      GITHUB_REF: 'refs/pull/12/merge',
    });
    expect(context).toEqual({
      eventName: 'pull_request_target',
      ref: 'refs/pull/12/merge',
      sha: '',
      prNumber: 12,
    });
  });

  it('works with nothing set at all', () => {
    expect(gitContextFromEnv({})).toEqual({ eventName: '', ref: '', sha: '' });
  });

  it.each([
    ['a missing file', join(dir, 'absent.json'), 'cannot read GITHUB_EVENT_PATH file'],
    ['broken JSON', eventFile('broken.json', '{"a":'), 'is not valid JSON'],
    ['a JSON array', eventFile('array.json', '[]'), 'must hold a JSON object'],
  ])('fails on %s, naming the file', (_name, path, message) => {
    const read = () => gitContextFromEnv({ GITHUB_EVENT_PATH: path });
    expect(read).toThrow(GreenlightError);
    expect(read).toThrow(message);
    try {
      read();
    } catch (error) {
      expect((error as GreenlightError).file).toBe(path);
    }
  });
});

describe('context helpers', () => {
  const pr: GitContext = {
    eventName: 'pull_request',
    ref: 'refs/pull/3/merge',
    sha: 'merge',
    headSha: 'head',
  };
  it.each<[GitContext, string | undefined, string | undefined, boolean, string]>([
    [{ eventName: 'push', ref: 'refs/heads/feat/a', sha: 's' }, 'feat/a', undefined, false, 's'],
    [{ eventName: 'push', ref: 'refs/tags/v1', sha: 's' }, undefined, 'v1', false, 's'],
    [pr, undefined, undefined, true, 'head'],
    [{ ...pr, headSha: undefined }, undefined, undefined, true, 'merge'],
  ])('%j', (context, branch, tag, pull, commit) => {
    expect(branchOf(context)).toBe(branch);
    expect(tagOf(context)).toBe(tag);
    expect(isPullRequest(context)).toBe(pull);
    expect(buildCommit(context)).toBe(commit);
  });
});
