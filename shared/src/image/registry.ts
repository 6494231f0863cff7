import { setTimeout as sleep } from 'node:timers/promises';
import { GreenlightError } from '../runtime/errors.ts';
import type { RegistryCredentials } from './auth.ts';
import { MANIFEST_ACCEPT, type Manifest, parseManifest } from './manifest.ts';
import { DOCKER_HUB } from './reference.ts';

/** A challenge from a WWW-Authenticate header: the scheme and its parameters. */
export interface AuthChallenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses a WWW-Authenticate header such as `Bearer realm="https://auth/token",service="reg"`. */
export function parseAuthChallenge(header: string): AuthChallenge | undefined {
  const match = /^\s*([A-Za-z][A-Za-z0-9_-]*)\s*(.*)$/s.exec(header);
  if (!match) return undefined;
  const params: Record<string, string> = {};
  const pairs = /([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/g;
  for (const pair of (match[2] as string).matchAll(pairs)) {
    params[(pair[1] as string).toLowerCase()] = (pair[2] ?? pair[3] ?? '').replace(/\\(.)/g, '$1');
  }
  return { scheme: (match[1] as string).toLowerCase(), params };
}

/** True for a host on the loopback interface, which registries serve over plain HTTP (as Docker assumes). */
export function isLoopbackHost(registry: string): boolean {
  const host = registry.startsWith('[') ? registry.slice(1, registry.indexOf(']')) : registry.split(':')[0];
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host ?? '');
}

/** The base URL of a registry's API: Docker Hub's real API host, plain HTTP on loopback, HTTPS elsewhere. */
export function registryBaseUrl(registry: string): string {
  if (registry === DOCKER_HUB) return 'https://registry-1.docker.io';
  return `${isLoopbackHost(registry) ? 'http' : 'https'}://${registry}`;
}

/** The errors an OCI registry returns in its body: `{"errors":[{"code":"...","message":"..."}]}`. */
function registryErrors(text: string): string {
  try {
    const body = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
    const parts = (body.errors ?? []).map((e) => [e.code, e.message].filter(Boolean).join(': '));
    if (parts.length > 0) return parts.join('; ');
  } catch {
    // Not JSON (a proxy's HTML page): use the text itself, shortened.
  }
  return text.trim().slice(0, 200);
}

/** Why a request could not reach the registry at all, from fetch's error and its cause. */
function networkReason(error: unknown): string {
  const cause =
    error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
  const code = cause?.code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host name not found';
  if (code === 'ECONNRESET') return 'connection reset';
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError'))
    return error.name === 'TimeoutError' ? 'no answer in time' : 'cancelled';
  return cause?.message ?? (error instanceof Error ? error.message : String(error));
}

export interface RegistryClientOptions {
  credentials?: RegistryCredentials;
  /** Aborts every request (job cancelled). */
  signal?: AbortSignal;
  /** Deadline for one request, 30 s by default. */
  timeoutMs?: number;
}

interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: Uint8Array;
  /** Token scopes this request needs, e.g. `repository:team/app:pull,push`. */
  scopes: string[];
  /** Statuses the caller handles itself (404 for a missing tag). */
  accept?: number[];
  /** What the request does, for error messages: "read tag 1.2.3". */
  what: string;
  object: string;
}

/**
 * A client for one registry's HTTP API (OCI distribution): manifest digests, manifests, tags, manifest PUT and
 * cross-repository blob mounts. Handles anonymous, basic and bearer-token auth. Errors name the registry
 * object and never include credentials.
 */
export class RegistryClient {
  readonly registry: string;
  readonly baseUrl: string;
  private readonly credentials: RegistryCredentials | undefined;
  private readonly signal: AbortSignal | undefined;
  private readonly timeoutMs: number;
  private basic = false;
  private bearer: AuthChallenge | undefined;
  private readonly tokens = new Map<string, string>();

  constructor(registry: string, options: RegistryClientOptions = {}) {
    this.registry = registry;
    this.baseUrl = registryBaseUrl(registry);
    this.credentials = options.credentials;
    this.signal = options.signal;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  private basicHeader(): string | undefined {
    const c = this.credentials;
    if (!c?.username || c.password === undefined) return undefined;
    return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
  }

  private who(): string {
    if (!this.credentials) return 'anonymous access';
    const user = this.credentials.username ? `user ${this.credentials.username}` : 'the identity token';
    return `${user} (from ${this.credentials.source})`;
  }

  private fail(what: string, object: string, reason: string, hint: string, cause?: unknown): GreenlightError {
    return new GreenlightError({ what, object: { kind: 'registry', name: object }, reason, hint, cause });
  }

  private requestSignal(): AbortSignal {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    return this.signal ? AbortSignal.any([this.signal, timeout]) : timeout;
  }

  private async send(url: string, init: RequestInit, what: string, object: string): Promise<Response> {
    try {
      return await fetch(url, { ...init, redirect: 'follow', signal: this.requestSignal() });
    } catch (error) {
      if (this.signal?.aborted) throw error;
      throw this.fail(
        what,
        object,
        `${networkReason(error)} at ${new URL(url).origin}`,
        `check that the registry ${this.registry} is up and that the image names the right host and port`,
        error,
      );
    }
  }

  /** Fetches a bearer token for `scopes` from the realm the registry named. */
  private async token(scopes: string[], what: string, object: string): Promise<string> {
    const key = [...scopes].sort().join(' ');
    const cached = this.tokens.get(key);
    if (cached) return cached;
    const challenge = this.bearer as AuthChallenge;
    const realm = challenge.params.realm;
    if (!realm)
      throw this.fail(
        what,
        object,
        'the registry asked for a token but named no realm',
        'check the registry',
      );
    const url = new URL(realm);
    const form = new URLSearchParams();
    if (challenge.params.service) form.set('service', challenge.params.service);
    let response: Response;
    if (this.credentials?.identityToken) {
      form.set('grant_type', 'refresh_token');
      form.set('refresh_token', this.credentials.identityToken);
      form.set('client_id', 'greenlight');
      form.set('scope', scopes.join(' '));
      response = await this.send(
        url.toString(),
        { method: 'POST', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded' } },
        what,
        object,
      );
    } else {
      for (const [name, value] of form) url.searchParams.set(name, value);
      for (const scope of scopes) url.searchParams.append('scope', scope);
      const auth = this.basicHeader();
      response = await this.send(
        url.toString(),
        { headers: auth ? { authorization: auth } : {} },
        what,
        object,
      );
    }
    if (!response.ok) {
      const detail = registryErrors(await response.text());
      throw this.fail(
        what,
        object,
        `the token service refused ${this.who()}: HTTP ${response.status}${detail ? ` (${detail})` : ''}`,
        'check `username` and `password` (or the Docker config), and that the user may access this repository',
      );
    }
    const body = (await response.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token)
      throw this.fail(what, object, 'the token service answered without a token', 'check the registry');
    this.tokens.set(key, token);
    return token;
  }

  private async authorization(scopes: string[], what: string, object: string): Promise<string | undefined> {
    if (this.bearer) return `Bearer ${await this.token(scopes, what, object)}`;
    if (this.basic) return this.basicHeader();
    return undefined;
  }

  /** Sends a request, answering an auth challenge once; retries briefly on 429 and 5xx. */
  private async request(path: string, options: RequestOptions): Promise<Response> {
    const url = `${this.baseUrl}${path}`;
    const { what, object } = options;
    let challenged = false;
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { ...options.headers };
      const auth = await this.authorization(options.scopes, what, object);
      if (auth) headers.authorization = auth;
      const init: RequestInit = { method: options.method ?? 'GET', headers };
      if (options.body) init.body = options.body;
      const response = await this.send(url, init, what, object);
      if (response.status === 401 && !challenged) {
        const challenge = parseAuthChallenge(response.headers.get('www-authenticate') ?? '');
        await response.body?.cancel();
        challenged = true;
        if (challenge?.scheme === 'bearer') {
          this.bearer = challenge;
          this.tokens.clear();
          continue;
        }
        if (challenge?.scheme === 'basic' && this.basicHeader() && !this.basic) {
          this.basic = true;
          continue;
        }
        throw this.fail(
          what,
          object,
          `the registry requires credentials and ${this.who()} has none it accepts (HTTP 401)`,
          'give `username` and `password`, or log in to the registry in the Docker config before this step',
        );
      }
      if (
        (response.status === 401 || response.status === 403) &&
        !options.accept?.includes(response.status)
      ) {
        const detail = registryErrors(await response.text());
        throw this.fail(
          what,
          object,
          `the registry refused ${this.who()}: HTTP ${response.status}${detail ? ` (${detail})` : ''}`,
          response.status === 401
            ? 'check `username` and `password` (or the Docker config login) for this registry'
            : 'the credentials are valid but may not do this: grant the user pull and push on the repository',
        );
      }
      const retriable = response.status === 429 || response.status >= 500;
      if (retriable && attempt < 2) {
        await response.body?.cancel();
        await sleep(500 * 2 ** attempt, undefined, { signal: this.signal });
        continue;
      }
      if (!response.ok && !(options.accept ?? []).includes(response.status)) {
        const detail = registryErrors(await response.text());
        throw this.fail(
          what,
          object,
          `HTTP ${response.status} from ${this.registry}${detail ? `: ${detail}` : ''}`,
          response.status >= 500
            ? 'the registry failed; try again, and check its logs if it persists'
            : 'check the repository name and the registry',
        );
      }
      return response;
    }
  }

  /** The path and query of a URL the registry handed back (absolute or relative). */
  private pathOf(location: string): string {
    const url = new URL(location, this.baseUrl);
    return `${url.pathname}${url.search}`;
  }

  private label(repository: string, reference?: string): string {
    if (!reference) return `${this.registry}/${repository}`;
    return `${this.registry}/${repository}${reference.startsWith('sha256:') ? '@' : ':'}${reference}`;
  }

  /**
   * Checks that the registry answers and that the credentials are accepted for `access` on `repository`, before
   * anything is built or pushed. For push it opens a blob upload and cancels it at once: the only question every
   * registry answers truthfully about push rights (a token may be granted with pull alone).
   */
  async check(repository: string, access: 'pull' | 'push'): Promise<void> {
    const what = `registry check (${access})`;
    const object = this.label(repository);
    const pull = [`repository:${repository}:pull`];
    const response = await this.request('/v2/', { scopes: pull, what, object });
    await response.body?.cancel();
    if (access === 'pull') {
      // A token registry answers /v2/ for any valid token; list the tags to prove the scope.
      if (this.bearer) await this.listTags(repository);
      return;
    }
    const upload = await this.request(`/v2/${repository}/blobs/uploads/`, {
      method: 'POST',
      scopes: [`repository:${repository}:pull,push`],
      what,
      object,
    });
    await upload.body?.cancel();
    const location = upload.headers.get('location');
    if (location) await this.cancelUpload(repository, location);
  }

  /**
   * Cancels an open blob upload. Registries that keep cancelling for users with delete rights (401, 403) or do
   * not offer it (405) expire the empty upload by themselves, so those answers are fine too.
   */
  private async cancelUpload(repository: string, location: string): Promise<void> {
    const cancel = await this.request(this.pathOf(location), {
      method: 'DELETE',
      scopes: [`repository:${repository}:pull,push`],
      accept: [401, 403, 404, 405],
      what: 'cancel upload',
      object: this.label(repository),
    });
    await cancel.body?.cancel();
  }

  /** The digest a tag (or digest) points to, from a HEAD request; undefined when it does not exist. */
  async manifestDigest(repository: string, reference: string): Promise<string | undefined> {
    const object = this.label(repository, reference);
    const response = await this.request(`/v2/${repository}/manifests/${reference}`, {
      method: 'HEAD',
      headers: { accept: MANIFEST_ACCEPT },
      scopes: [`repository:${repository}:pull`],
      accept: [404],
      what: 'read manifest digest',
      object,
    });
    if (response.status === 404) return undefined;
    const digest = response.headers.get('docker-content-digest');
    if (digest) return digest;
    // Some registries leave the header out on HEAD: read the manifest and hash its bytes.
    return (await this.getManifest(repository, reference))?.digest;
  }

  /** The manifest a tag or digest points to, with its exact bytes; undefined when it does not exist. */
  async getManifest(repository: string, reference: string): Promise<Manifest | undefined> {
    const object = this.label(repository, reference);
    const response = await this.request(`/v2/${repository}/manifests/${reference}`, {
      headers: { accept: MANIFEST_ACCEPT },
      scopes: [`repository:${repository}:pull`],
      accept: [404],
      what: 'read manifest',
      object,
    });
    if (response.status === 404) {
      await response.body?.cancel();
      return undefined;
    }
    const bytes = Buffer.from(await response.arrayBuffer());
    const digest = response.headers.get('docker-content-digest') ?? undefined;
    try {
      return parseManifest(bytes, response.headers.get('content-type') ?? undefined, digest);
    } catch (error) {
      throw this.fail(
        'read manifest',
        object,
        `not an image manifest: ${String(error)}`,
        'check the reference',
      );
    }
  }

  /** Stores `manifest` under `reference` (a tag, or its digest) and returns the digest the registry reports. */
  async putManifest(repository: string, reference: string, manifest: Manifest): Promise<string> {
    const response = await this.request(`/v2/${repository}/manifests/${reference}`, {
      method: 'PUT',
      headers: { 'content-type': manifest.mediaType },
      body: manifest.bytes,
      scopes: [`repository:${repository}:pull,push`],
      what: `push tag ${reference}`,
      object: this.label(repository, reference),
    });
    await response.body?.cancel();
    return response.headers.get('docker-content-digest') ?? manifest.digest;
  }

  /** Every tag of a repository, following pagination; empty when the repository does not exist yet. */
  async listTags(repository: string): Promise<string[]> {
    const tags: string[] = [];
    let path: string | undefined = `/v2/${repository}/tags/list?n=1000`;
    while (path) {
      const response = await this.request(path, {
        scopes: [`repository:${repository}:pull`],
        accept: [404],
        what: 'list tags',
        object: this.label(repository),
      });
      if (response.status === 404) {
        await response.body?.cancel();
        return [];
      }
      const body = (await response.json()) as { tags?: string[] | null };
      tags.push(...(body.tags ?? []));
      const next = /<([^>]+)>;\s*rel="?next"?/.exec(response.headers.get('link') ?? '');
      path = next ? this.pathOf(next[1] as string) : undefined;
    }
    return tags;
  }

  /** Reads a small JSON blob (an image config) by digest; undefined when the repository does not hold it. */
  async getJsonBlob(repository: string, digest: string): Promise<unknown> {
    const response = await this.request(`/v2/${repository}/blobs/${digest}`, {
      scopes: [`repository:${repository}:pull`],
      accept: [404],
      what: 'read image config',
      object: this.label(repository, digest),
    });
    if (response.status === 404) {
      await response.body?.cancel();
      return undefined;
    }
    return JSON.parse(Buffer.from(await response.arrayBuffer()).toString('utf8'));
  }

  /** True when the repository holds the blob. */
  async hasBlob(repository: string, digest: string): Promise<boolean> {
    const response = await this.request(`/v2/${repository}/blobs/${digest}`, {
      method: 'HEAD',
      scopes: [`repository:${repository}:pull`],
      accept: [404],
      what: 'check blob',
      object: this.label(repository, digest),
    });
    await response.body?.cancel();
    return response.ok;
  }

  /**
   * Mounts a blob from another repository of the same registry, so no layer travels. Returns false when the
   * registry declined to mount (it then opened an upload, which is cancelled here).
   */
  async mountBlob(repository: string, digest: string, from: string): Promise<boolean> {
    const query = new URLSearchParams({ mount: digest, from });
    const response = await this.request(`/v2/${repository}/blobs/uploads/?${query}`, {
      method: 'POST',
      scopes: [`repository:${repository}:pull,push`, `repository:${from}:pull`],
      accept: [202],
      what: 'mount blob',
      object: this.label(repository, digest),
    });
    await response.body?.cancel();
    if (response.status === 201) return true;
    const location = response.headers.get('location');
    if (location) await this.cancelUpload(repository, location);
    return false;
  }
}
