import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { GreenlightError } from '../runtime/errors.ts';
import { runTool } from './process.ts';
import { DOCKER_HUB } from './reference.ts';

/** Credentials for one registry, and where they came from (for logs; never the values themselves). */
export interface RegistryCredentials {
  username?: string;
  password?: string;
  /** An OAuth2 refresh token some registries hand out instead of a password (`identitytoken`). */
  identityToken?: string;
  /** Where they were found: `inputs`, `docker config (<path>)`, `credential helper <name>`. */
  source: string;
}

const DOCKER_HUB_ALIASES = new Set([
  'docker.io',
  'index.docker.io',
  'registry-1.docker.io',
  'registry.hub.docker.com',
]);
/** The key Docker writes for Docker Hub in its config. */
const DOCKER_HUB_CONFIG_KEY = 'https://index.docker.io/v1/';

/** Reduces a key of a Docker config's `auths` (`https://host:port/v1/`, `host`) to the registry host. */
export function registryHostOfKey(key: string): string {
  const host = key
    .replace(/^[a-z]+:\/\//i, '')
    .replace(/\/.*$/, '')
    .toLowerCase();
  return DOCKER_HUB_ALIASES.has(host) ? DOCKER_HUB : host;
}

interface DockerConfigEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}

/** The parts of a Docker (or containers-auth.json) config this module reads. */
export interface DockerConfig {
  auths?: Record<string, DockerConfigEntry>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

/** Where the Docker config lives: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
export function dockerConfigPath(env: NodeJS.ProcessEnv): string {
  const dir = env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker');
  return join(dir, 'config.json');
}

/** Reads a Docker config file; undefined when there is none. A malformed one is an error naming the file. */
export function readDockerConfig(path: string): DockerConfig | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as DockerConfig;
  } catch (error) {
    throw new GreenlightError({
      what: 'read the Docker config',
      object: { kind: 'file', name: path },
      reason: error instanceof Error ? error.message : String(error),
      hint: 'fix the JSON, or give `username` and `password` as inputs',
      cause: error,
    });
  }
}

/** Finds the static credentials for `registry` in a config's `auths`, decoding the base64 `auth` field. */
export function credentialsFromConfig(
  config: DockerConfig,
  registry: string,
  source: string,
): RegistryCredentials | undefined {
  const wanted = registryHostOfKey(registry);
  for (const [key, entry] of Object.entries(config.auths ?? {})) {
    if (registryHostOfKey(key) !== wanted) continue;
    if (entry.identitytoken) return { identityToken: entry.identitytoken, source };
    if (entry.username && entry.password)
      return { username: entry.username, password: entry.password, source };
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon > 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), source };
    }
  }
  return undefined;
}

/** The credential helper a config names for `registry` (`credHelpers`, else `credsStore`). */
export function credentialHelperFor(config: DockerConfig, registry: string): string | undefined {
  const wanted = registryHostOfKey(registry);
  for (const [key, helper] of Object.entries(config.credHelpers ?? {})) {
    if (registryHostOfKey(key) === wanted) return helper;
  }
  return config.credsStore || undefined;
}

/** Asks a Docker credential helper (`docker-credential-<name> get`, server on stdin) for credentials. */
async function credentialsFromHelper(
  helper: string,
  registry: string,
  env: NodeJS.ProcessEnv,
): Promise<RegistryCredentials | undefined> {
  const server = registryHostOfKey(registry) === DOCKER_HUB ? DOCKER_HUB_CONFIG_KEY : registry;
  let result: Awaited<ReturnType<typeof runTool>>;
  try {
    result = await runTool(`docker-credential-${helper}`, ['get'], {
      stdin: server,
      captureStdout: true,
      env,
    });
  } catch {
    // The helper the config names is not installed here: fall through to anonymous access, as Docker does.
    return undefined;
  }
  if (result.code !== 0) return undefined; // "credentials not found in native keychain"
  let answer: { Username?: string; Secret?: string };
  try {
    answer = JSON.parse(result.stdout) as { Username?: string; Secret?: string };
  } catch (error) {
    throw new GreenlightError({
      what: 'read credentials',
      object: { kind: 'registry', name: registry },
      reason: `docker-credential-${helper} answered with something that is not JSON`,
      hint: 'check the credential helper named in the Docker config, or give `username` and `password`',
      cause: error,
    });
  }
  if (!answer.Secret) return undefined;
  const source = `credential helper ${helper}`;
  if (answer.Username === '<token>') return { identityToken: answer.Secret, source };
  return { username: answer.Username, password: answer.Secret, source };
}

/**
 * Credentials for `registry`: the inputs when given, else the existing Docker config (its `auths`, then its
 * credential helper), else the containers auth file buildah and skopeo use (`REGISTRY_AUTH_FILE`). Undefined
 * means anonymous access.
 */
export async function resolveCredentials(
  registry: string,
  inputs: { username?: string; password?: string },
  env: NodeJS.ProcessEnv,
): Promise<RegistryCredentials | undefined> {
  if (inputs.password && !inputs.username) {
    throw new GreenlightError({
      what: 'registry login',
      object: { kind: 'registry', name: registry },
      reason: 'input `password` was given without `username`',
      hint: 'give both `username` and `password` (for a token, the user name the registry expects with it)',
    });
  }
  if (inputs.username) {
    if (!inputs.password) {
      throw new GreenlightError({
        what: 'registry login',
        object: { kind: 'registry', name: registry },
        reason: `input \`username\` (${inputs.username}) was given without \`password\``,
        hint: 'give the password or token in `password`, from a secret',
      });
    }
    return { username: inputs.username, password: inputs.password, source: 'inputs' };
  }
  const configPath = dockerConfigPath(env);
  const config = readDockerConfig(configPath);
  if (config) {
    const found = credentialsFromConfig(config, registry, `docker config (${configPath})`);
    if (found) return found;
    const helper = credentialHelperFor(config, registry);
    if (helper) {
      const fromHelper = await credentialsFromHelper(helper, registry, env);
      if (fromHelper) return fromHelper;
    }
  }
  if (env.REGISTRY_AUTH_FILE) {
    const authFile = readDockerConfig(env.REGISTRY_AUTH_FILE);
    if (authFile) return credentialsFromConfig(authFile, registry, `auth file (${env.REGISTRY_AUTH_FILE})`);
  }
  return undefined;
}

function configEntry(credentials: RegistryCredentials): DockerConfigEntry {
  if (credentials.identityToken) return { identitytoken: credentials.identityToken };
  return {
    auth: Buffer.from(`${credentials.username ?? ''}:${credentials.password ?? ''}`).toString('base64'),
  };
}

/** The logins already on the machine: the Docker config, then the containers auth file (`REGISTRY_AUTH_FILE`). */
function existingLogins(env: NodeJS.ProcessEnv): DockerConfig {
  const docker = readDockerConfig(dockerConfigPath(env)) ?? {};
  const containers = env.REGISTRY_AUTH_FILE ? (readDockerConfig(env.REGISTRY_AUTH_FILE) ?? {}) : {};
  const merged: DockerConfig = { auths: { ...(containers.auths ?? {}), ...(docker.auths ?? {}) } };
  const helpers = { ...(containers.credHelpers ?? {}), ...(docker.credHelpers ?? {}) };
  if (Object.keys(helpers).length > 0) merged.credHelpers = helpers;
  return merged;
}

/** Puts `entries` into `auths`, replacing any key that names the same registry. */
function withEntries(
  auths: Record<string, DockerConfigEntry>,
  entries: ReadonlyMap<string, RegistryCredentials>,
  keyOf: (host: string) => string,
): Record<string, DockerConfigEntry> {
  const out = { ...auths };
  for (const [registry, credentials] of entries) {
    const host = registryHostOfKey(registry);
    for (const key of Object.keys(out)) if (registryHostOfKey(key) === host) delete out[key];
    out[keyOf(host)] = configEntry(credentials);
  }
  return out;
}

/**
 * Writes a containers auth file (the `auths` form buildah and skopeo read with `--authfile`) with mode 0600, so
 * credentials reach the tools through a file and never through argv. It holds the machine's existing logins
 * (base images from private registries keep working) with `entries` on top. Returns its path.
 */
export function writeAuthFile(
  dir: string,
  entries: ReadonlyMap<string, RegistryCredentials>,
  env: NodeJS.ProcessEnv,
): string {
  const existing = existingLogins(env);
  const config: DockerConfig = {
    ...existing,
    auths: withEntries(existing.auths ?? {}, entries, (host) => host),
  };
  const path = join(dir, 'auth.json');
  writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
  return path;
}

/**
 * Makes a private Docker config folder for `docker buildx`: a config.json (0600) holding the given credentials,
 * with the user's buildx builders, contexts and CLI plugins linked in so the configured builder is still found.
 * Returns the folder, for the DOCKER_CONFIG variable of the child process.
 */
export function writeDockerConfigDir(
  dir: string,
  entries: ReadonlyMap<string, RegistryCredentials>,
  env: NodeJS.ProcessEnv,
): string {
  const configDir = join(dir, 'docker-config');
  mkdirSync(configDir, { recursive: true, mode: 0o700 });
  const userDir = env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker');
  const userConfig = readDockerConfig(join(userDir, 'config.json')) ?? {};
  const auths = withEntries(userConfig.auths ?? {}, entries, (host) =>
    host === DOCKER_HUB ? DOCKER_HUB_CONFIG_KEY : host,
  );
  const config = { ...userConfig, auths };
  const path = join(configDir, 'config.json');
  writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
  for (const shared of ['buildx', 'contexts', 'cli-plugins']) {
    const target = join(userDir, shared);
    if (existsSync(target)) symlinkSync(target, join(configDir, shared));
  }
  return configDir;
}
