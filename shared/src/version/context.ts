// The git context of a run: event, ref, commit and the parts of the event payload that versioning needs, read
// from the GITHUB_* variables and the event file exactly as the runner provides them.
import { readFileSync } from 'node:fs';
import { GreenlightError } from '../runtime/errors.ts';

/** What versioning knows about the run that triggered it. */
export interface GitContext {
  /** `push`, `pull_request`, `release`, `workflow_dispatch`, `schedule`, ... */
  eventName: string;
  /** The full ref: `refs/heads/main`, `refs/tags/v1.2.3`, `refs/pull/7/merge`. */
  ref: string;
  /** The commit the run checked out (for pull requests GitHub's merge commit). */
  sha: string;
  /** For pull requests, the head commit of the branch: what the author pushed. */
  headSha?: string;
  prNumber?: number;
  /** For pull requests, the source branch. */
  headRef?: string;
  /** For pull requests, the target branch. */
  baseRef?: string;
  defaultBranch?: string;
  /** `owner/name`. */
  repository?: string;
  /** `https://github.com` or a GitHub Enterprise address. */
  serverUrl?: string;
  runId?: string;
  actor?: string;
  /** workflow_dispatch inputs. */
  inputs?: Record<string, string>;
  /** The release of a `release` event. */
  release?: { tagName: string; prerelease: boolean };
  /** The repository description from the event payload (for the OCI description label). */
  description?: string;
  /** The SPDX id of the repository licence from the event payload (for the OCI licenses label). */
  license?: string;
  /** ISO time of the head commit when the payload carries it (push events). */
  commitDate?: string;
}

type Json = Record<string, unknown>;

function object(value: unknown): Json | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : undefined;
}

function text(value: unknown): string | undefined {
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/** Reads and parses the event payload file; a missing or broken file is an error that names it. */
export function readEventPayload(path: string): Json {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (error) {
    throw new GreenlightError({
      what: 'read the event payload',
      reason: `cannot read GITHUB_EVENT_PATH file ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`,
      hint: 'point GITHUB_EVENT_PATH at the webhook payload JSON, or unset it outside GitHub Actions',
      file: path,
      cause: error,
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    throw new GreenlightError({
      what: 'read the event payload',
      reason: `${path} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
      file: path,
      cause: error,
    });
  }
  const payload = object(parsed);
  if (!payload) {
    throw new GreenlightError({
      what: 'read the event payload',
      reason: `${path} must hold a JSON object`,
      file: path,
    });
  }
  return payload;
}

/**
 * Builds the git context from a webhook payload and the runner's variables. Pure: `env` holds GITHUB_* values
 * and `payload` the parsed event file.
 */
export function gitContextFromPayload(env: NodeJS.ProcessEnv, payload: Json): GitContext {
  const context: GitContext = {
    eventName: env.GITHUB_EVENT_NAME ?? '',
    ref: env.GITHUB_REF ?? '',
    sha: env.GITHUB_SHA ?? '',
  };
  const set = <K extends keyof GitContext>(key: K, value: GitContext[K] | undefined): void => {
    if (value !== undefined) context[key] = value;
  };
  set('repository', text(env.GITHUB_REPOSITORY));
  set('serverUrl', text(env.GITHUB_SERVER_URL) ?? (env.GITHUB_REPOSITORY ? 'https://github.com' : undefined));
  set('runId', text(env.GITHUB_RUN_ID));
  set('actor', text(env.GITHUB_ACTOR));
  set('headRef', text(env.GITHUB_HEAD_REF));
  set('baseRef', text(env.GITHUB_BASE_REF));

  const repository = object(payload.repository);
  set('defaultBranch', text(repository?.default_branch));
  set('description', text(repository?.description));
  set('license', text(object(repository?.license)?.spdx_id));

  const pullRequest = object(payload.pull_request);
  if (pullRequest) {
    const number = pullRequest.number ?? payload.number;
    if (typeof number === 'number') set('prNumber', number);
    set('headSha', text(object(pullRequest.head)?.sha));
    set('headRef', text(object(pullRequest.head)?.ref) ?? context.headRef);
    set('baseRef', text(object(pullRequest.base)?.ref) ?? context.baseRef);
  } else {
    const match = /^refs\/pull\/(\d+)\//.exec(context.ref);
    if (match) set('prNumber', Number(match[1]));
  }

  const release = object(payload.release);
  const tagName = text(release?.tag_name);
  if (tagName) set('release', { tagName, prerelease: release?.prerelease === true });

  const inputs = object(payload.inputs);
  if (inputs) {
    const values: Record<string, string> = {};
    for (const [key, value] of Object.entries(inputs)) {
      const given = text(value);
      if (given !== undefined) values[key] = given;
    }
    set('inputs', values);
  }
  set('commitDate', text(object(payload.head_commit)?.timestamp));
  return context;
}

/** Reads the git context from GITHUB_* variables and the GITHUB_EVENT_PATH file, as the runner provides them. */
export function gitContextFromEnv(env: NodeJS.ProcessEnv): GitContext {
  const path = env.GITHUB_EVENT_PATH;
  const payload = path ? readEventPayload(path) : {};
  return gitContextFromPayload(env, payload);
}

/** The branch name of a `refs/heads/` ref, or undefined. */
export function branchOf(context: GitContext): string | undefined {
  return context.ref.startsWith('refs/heads/') ? context.ref.slice('refs/heads/'.length) : undefined;
}

/** The tag name of a `refs/tags/` ref, or undefined. */
export function tagOf(context: GitContext): string | undefined {
  return context.ref.startsWith('refs/tags/') ? context.ref.slice('refs/tags/'.length) : undefined;
}

/** True for events about a pull request, whose image should be tagged by PR number and head commit. */
export function isPullRequest(context: GitContext): boolean {
  return context.eventName.startsWith('pull_request') || context.ref.startsWith('refs/pull/');
}

/** The commit the image is built from: the PR head commit for pull requests, not GitHub's merge commit. */
export function buildCommit(context: GitContext): string {
  return isPullRequest(context) && context.headSha ? context.headSha : context.sha;
}
