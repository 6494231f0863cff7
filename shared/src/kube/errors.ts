import { GreenlightError, type ObjectRef } from '../runtime/errors.ts';

/** Where the least-privilege Role lives, for hints about missing permissions. */
export const RBAC_ROLE_PATH = 'rbac/deployer-role.yaml';

/** The parts of a Kubernetes `Status` body that messages use. */
export interface KubeStatus {
  code?: number;
  reason?: string;
  message?: string;
  details?: { name?: string; kind?: string; group?: string; causes?: { field?: string; message?: string }[] };
}

/**
 * The HTTP status of a failed API call, or undefined for network errors and the rest. A refused request is an
 * ApiException, with the status in `code`; a refused watch (client-node's `Watch.watch`) is a plain Error with
 * the status in `statusCode`.
 */
export function statusCode(error: unknown): number | undefined {
  const failed = error as { code?: unknown; statusCode?: unknown } | null;
  for (const code of [failed?.code, failed?.statusCode])
    if (typeof code === 'number' && code >= 100 && code < 600) return code;
  return undefined;
}

/** True when the API answered 404 Not Found. */
export function isNotFound(error: unknown): boolean {
  return statusCode(error) === 404;
}

/** True when the API answered 409 Conflict (a resourceVersion precondition failed, or the object exists). */
export function isConflict(error: unknown): boolean {
  return statusCode(error) === 409;
}

/** The `Status` object the API server sent with an error, when there is one. */
export function statusBody(error: unknown): KubeStatus | undefined {
  const body = (error as { body?: unknown } | null)?.body;
  if (body && typeof body === 'object') return body as KubeStatus;
  if (typeof body === 'string' && body.trim().startsWith('{')) {
    try {
      return JSON.parse(body) as KubeStatus;
    } catch {
      return { message: body };
    }
  }
  if (typeof body === 'string' && body.trim()) return { message: body.trim() };
  return undefined;
}

/** A permission RBAC refused, read from a 403 message. */
export interface MissingPermission {
  user: string;
  verb: string;
  resource: string;
  group: string;
  namespace?: string;
}

const FORBIDDEN =
  /User "([^"]+)" cannot (\S+) resource "([^"]+)" in API group "([^"]*)"(?: in the namespace "([^"]+)")?/;

/** Reads which permission is missing from a 403 Forbidden message, e.g. `cannot patch resource "services"`. */
export function missingPermission(message: string): MissingPermission | undefined {
  const match = FORBIDDEN.exec(message);
  if (!match) return undefined;
  const [, user, verb, resource, group, namespace] = match as unknown as string[];
  return {
    user: user as string,
    verb: verb as string,
    resource: resource as string,
    group: group ?? '',
    namespace: namespace || undefined,
  };
}

/** `deployments.apps` or `services` (core group). */
export function resourceName(permission: Pick<MissingPermission, 'resource' | 'group'>): string {
  return permission.group ? `${permission.resource}.${permission.group}` : permission.resource;
}

const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
]);

/** True for failures worth retrying on a safe request: throttling, server errors, dropped connections. */
export function isTransient(error: unknown): boolean {
  const status = statusCode(error);
  if (status !== undefined)
    return status === 429 || status === 500 || status === 502 || status === 503 || status === 504;
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && TRANSIENT_CODES.has(code)) return true;
    const message = current instanceof Error ? current.message : '';
    if (/fetch failed|socket hang up|network|ECONNRESET|ECONNREFUSED|other side closed/i.test(message))
      return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** What a Kubernetes call was doing, for the error it turns into. */
export interface KubeCallContext {
  /** What failed, as a short phrase: "apply", "read the release record". */
  what: string;
  object?: ObjectRef;
  /** The API server, named when it cannot be reached. */
  server?: string;
  /**
   * The permission the call needs, named when a 403 comes without a Status body (client-node drops the body of
   * a refused watch), so the error can still say what to grant. A permission the Status names comes first.
   */
  permission?: Omit<MissingPermission, 'user'>;
}

/** Who the error names when the API server did not say: a watch's 403 comes without the user. */
const UNNAMED_USER = 'the identity in the kubeconfig';

/**
 * Turns a failed Kubernetes call into a GreenlightError that says what failed, on which object, why and what to
 * do. A 403 names the missing permission (verb, resource, API group, namespace), from the API server's Status or
 * else from `context.permission`, and points at the shipped Role.
 */
export function kubeError(error: unknown, context: KubeCallContext): GreenlightError {
  if (error instanceof GreenlightError) return error;
  const status = statusCode(error);
  const body = statusBody(error);
  const message = body?.message ?? (error instanceof Error ? error.message : String(error));
  const base = { what: context.what, object: context.object, cause: error };
  if (status === 403) {
    const permission =
      missingPermission(message) ??
      (body === undefined && context.permission ? { user: UNNAMED_USER, ...context.permission } : undefined);
    if (permission) {
      const where = permission.namespace ? ` in namespace "${permission.namespace}"` : ' cluster-wide';
      return new GreenlightError({
        ...base,
        reason: `permission denied: ${permission.user} may not ${permission.verb} ${resourceName(permission)}${where}`,
        hint: `grant the verb "${permission.verb}" on "${permission.resource}" (apiGroup "${permission.group}") to ${permission.user}; ${RBAC_ROLE_PATH} is the Role Greenlight needs`,
      });
    }
    return new GreenlightError({
      ...base,
      reason: `permission denied: ${message}`,
      hint: `bind the identity in the kubeconfig to the Role in ${RBAC_ROLE_PATH}`,
    });
  }
  if (status === 401) {
    return new GreenlightError({
      ...base,
      reason: 'the API server rejected the credentials (401 Unauthorized)',
      hint: 'the token or client certificate in the kubeconfig is invalid or expired; refresh the kubeconfig secret',
    });
  }
  if (status === 404) {
    return new GreenlightError({
      ...base,
      reason: `not found: ${message}`,
      hint: 'check the namespace and names; a namespace must exist before Greenlight deploys into it',
    });
  }
  if (status === 409) {
    return new GreenlightError({
      ...base,
      reason: `conflict: ${message}`,
      hint: 'someone else changed the object at the same time; re-run the step',
    });
  }
  if (status === 422 || status === 400) {
    const causes = (body?.details?.causes ?? [])
      .map((c) => (c.field ? `${c.field}: ${c.message}` : c.message))
      .filter(Boolean);
    return new GreenlightError({
      ...base,
      reason: `the API server refused the object: ${causes.length > 0 ? causes.join('; ') : message}`,
      hint: 'fix the manifest or chart template that produces this object',
    });
  }
  if (status !== undefined) {
    return new GreenlightError({
      ...base,
      reason: `the API server answered ${status}: ${message}`,
      hint: 'retry the step; if it persists, check the API server health',
    });
  }
  if (isTransient(error)) {
    return new GreenlightError({
      ...base,
      reason: `cannot reach the API server${context.server ? ` at ${context.server}` : ''}: ${message}`,
      hint: 'check that the cluster is reachable from the runner (network, firewall, VPN) and re-run',
    });
  }
  return new GreenlightError({ ...base, reason: message });
}
