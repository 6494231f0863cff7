import { getOctokit } from '@actions/github';
import { describeError } from '../runtime/errors.ts';
import type { Host } from '../runtime/host.ts';

/** The states Greenlight posts on a GitHub deployment. */
export type DeploymentState = 'queued' | 'in_progress' | 'success' | 'failure' | 'error' | 'inactive';

/** What a GitHub deployment is created for. */
export interface DeploymentRequest {
  /** The GitHub token; without one no deployment is created and every report is a no-op. */
  token: string | undefined;
  /** The GitHub environment name (the same as Greenlight's `environment`). */
  environment: string;
  /** One line about what ships, shown on the deployment (`api 1.4.2 (sha256:ab12…) to green`). */
  description: string;
  /** Extra facts kept on the deployment (app, revision, digest, colour). */
  payload?: Record<string, string>;
  /** The task name GitHub shows; `deploy` unless told. */
  task?: string;
  /** The ref deployed; defaults to GITHUB_SHA, then GITHUB_REF. */
  ref?: string;
  /** GITHUB_REPOSITORY, GITHUB_SHA, GITHUB_REF, GITHUB_API_URL, GITHUB_SERVER_URL, GITHUB_RUN_ID are read here. */
  env: NodeJS.ProcessEnv;
  host: Host;
}

/** Reports the progress of one GitHub deployment. Never throws: GitHub being unreachable must not fail a deploy. */
export interface DeploymentTracker {
  /** The deployment's id on GitHub, or undefined when none was created. */
  readonly id: number | undefined;
  /** Posts a status; `environmentUrl` is the address users open for the environment. */
  report(state: DeploymentState, description: string, environmentUrl?: string): Promise<void>;
}

const MAX_DESCRIPTION = 140;

/** Shortens a description to GitHub's limit of 140 characters. */
export function shortDescription(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length <= MAX_DESCRIPTION ? oneLine : `${oneLine.slice(0, MAX_DESCRIPTION - 1)}…`;
}

/** True for environment names that GitHub should treat as production. */
export function isProductionName(environment: string): boolean {
  return /^(prod|production|live)$/i.test(environment.trim());
}

/** The run's page, where the deployment's log lives, when the run is known. */
export function runLogUrl(env: NodeJS.ProcessEnv): string | undefined {
  const repository = env.GITHUB_REPOSITORY;
  const runId = env.GITHUB_RUN_ID;
  if (!repository || !runId) return undefined;
  const server = (env.GITHUB_SERVER_URL || 'https://github.com').replace(/\/+$/, '');
  return `${server}/${repository}/actions/runs/${runId}`;
}

/** A tracker that does nothing, for runs without a token or repository. */
class NoDeployment implements DeploymentTracker {
  readonly id = undefined;
  async report(): Promise<void> {}
}

interface ApiError {
  status?: number;
  message?: string;
}

/** Explains a GitHub API failure in the user's terms: what to change so the next run can post. */
export function explainApiFailure(error: unknown, repository: string): { reason: string; hint: string } {
  const status = (error as ApiError).status;
  const detail = describeError(error).split('\n')[0] ?? '';
  const reason = status ? `GitHub answered ${status}: ${detail}` : detail;
  if (status === 401)
    return { reason, hint: 'the token is invalid or expired; pass the workflow token, github.token' };
  if (status === 403 || status === 404) {
    return {
      reason,
      hint: `give the job \`permissions: deployments: write\` and a token that can see ${repository}`,
    };
  }
  if (status === 409) return { reason, hint: 'GitHub refused the deployment for this ref; see its message' };
  if (status === 422) return { reason, hint: 'GitHub rejected the request as invalid; report it as a bug' };
  return { reason, hint: 'check that GITHUB_API_URL is reachable from the runner' };
}

class GitHubDeployment implements DeploymentTracker {
  readonly id: number;
  private readonly octokit: ReturnType<typeof getOctokit>;
  private readonly owner: string;
  private readonly repo: string;
  private readonly environment: string;
  private readonly logUrl: string | undefined;
  private readonly host: Host;

  constructor(fields: {
    id: number;
    octokit: ReturnType<typeof getOctokit>;
    owner: string;
    repo: string;
    environment: string;
    logUrl: string | undefined;
    host: Host;
  }) {
    this.id = fields.id;
    this.octokit = fields.octokit;
    this.owner = fields.owner;
    this.repo = fields.repo;
    this.environment = fields.environment;
    this.logUrl = fields.logUrl;
    this.host = fields.host;
  }

  async report(state: DeploymentState, description: string, environmentUrl?: string): Promise<void> {
    try {
      await this.octokit.rest.repos.createDeploymentStatus({
        owner: this.owner,
        repo: this.repo,
        deployment_id: this.id,
        state,
        environment: this.environment,
        description: shortDescription(description),
        ...(this.logUrl ? { log_url: this.logUrl } : {}),
        ...(environmentUrl ? { environment_url: environmentUrl } : {}),
      });
      this.host.info(`GitHub deployment ${this.id}: ${state}`);
    } catch (error) {
      const { reason, hint } = explainApiFailure(error, `${this.owner}/${this.repo}`);
      this.host.warning(
        `posting status "${state}" on GitHub deployment ${this.id} failed: ${reason}. Hint: ${hint}`,
      );
    }
  }
}

/**
 * Creates a GitHub deployment for the environment and returns a tracker to post its statuses. Without a token or a
 * repository it says so once and returns a tracker that does nothing; when GitHub refuses, it warns with the
 * reason and a hint and carries on, because the cluster, not GitHub, is the source of truth.
 */
export async function startDeployment(request: DeploymentRequest): Promise<DeploymentTracker> {
  const { host, env } = request;
  if (!request.token) {
    host.info('No `token` given: no GitHub deployment is recorded for this run.');
    return new NoDeployment();
  }
  const repository = env.GITHUB_REPOSITORY ?? '';
  const [owner, repo] = repository.split('/');
  const ref = request.ref || env.GITHUB_SHA || env.GITHUB_REF;
  if (!owner || !repo || !ref) {
    host.warning(
      'GitHub deployment skipped: GITHUB_REPOSITORY or GITHUB_SHA is not set, so there is no repository or ref to ' +
        'record it on. Hint: run inside GitHub Actions, or set both variables for a run elsewhere.',
    );
    return new NoDeployment();
  }
  const octokit = getOctokit(request.token, {
    baseUrl: (env.GITHUB_API_URL || 'https://api.github.com').replace(/\/+$/, ''),
  });
  try {
    const response = await octokit.rest.repos.createDeployment({
      owner,
      repo,
      ref,
      task: request.task ?? 'deploy',
      environment: request.environment,
      description: shortDescription(request.description),
      payload: request.payload ?? {},
      // Greenlight gates on the cluster's health, not on commit statuses, and never merges branches.
      auto_merge: false,
      required_contexts: [],
      transient_environment: false,
      production_environment: isProductionName(request.environment),
    });
    if (response.status !== 201 || !('id' in response.data)) {
      const message = 'message' in response.data ? response.data.message : `status ${response.status}`;
      host.warning(`GitHub did not create a deployment for ${request.environment}: ${message}`);
      return new NoDeployment();
    }
    host.info(`GitHub deployment ${response.data.id} created for environment ${request.environment}`);
    return new GitHubDeployment({
      id: response.data.id,
      octokit,
      owner,
      repo,
      environment: request.environment,
      logUrl: runLogUrl(env),
      host,
    });
  } catch (error) {
    const { reason, hint } = explainApiFailure(error, repository);
    host.warning(
      `creating a GitHub deployment for ${request.environment} in ${repository} failed: ${reason}. Hint: ${hint}`,
    );
    return new NoDeployment();
  }
}
