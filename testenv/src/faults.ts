// The fault rules a test gives the fault proxy, and how a request picks one.
// Pure: no I/O, so the proxy and the tests share one definition.

export type FaultKind = 'latency' | 'status' | 'reset' | 'hang';

export interface FaultRule {
  kind: FaultKind;
  /** latency: delay before the request is forwarded. */
  latencyMs?: number;
  /** status: the HTTP status to answer with instead of forwarding (429, 500, 503, ...). */
  status?: number;
  /** status 429/503: the Retry-After header, in seconds. */
  retryAfterSeconds?: number;
  /** hang: how long to hold the request before dropping the connection (default 10 minutes). */
  hangMs?: number;
  /** Only requests with this HTTP method (case-insensitive). */
  method?: string;
  /** Only requests whose path (with query) matches this regular expression. */
  path?: string;
  /** Apply to this many matching requests, then retire. Default: unlimited. */
  count?: number;
  /** Let this many matching requests through untouched first (say, the first of two writes). Default: 0. */
  skip?: number;
  /** Apply for this many milliseconds from when the rule is added. Default: unlimited. */
  durationMs?: number;
}

export interface ActiveFault extends FaultRule {
  id: string;
  /** Epoch milliseconds after which the rule no longer applies (from durationMs). */
  until?: number;
  /** How many requests the rule has been applied to. */
  applied: number;
  /** How many matching requests it let through because of `skip`. */
  skipped?: number;
}

const kinds: readonly FaultKind[] = ['latency', 'status', 'reset', 'hang'];

/** Checks a rule from outside (JSON) and returns a clean copy; throws with the reason. */
export function validateFaultRule(input: unknown): FaultRule {
  if (!input || typeof input !== 'object') throw new Error('a fault rule is a JSON object');
  const raw = input as Record<string, unknown>;
  const kind = raw.kind as FaultKind;
  if (!kinds.includes(kind)) throw new Error(`kind must be one of ${kinds.join(', ')}`);
  const rule: FaultRule = { kind };
  const num = (name: keyof FaultRule, min: number): number | undefined => {
    const value = raw[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
      throw new Error(`${name} must be a number >= ${min}`);
    }
    return value;
  };
  const latencyMs = num('latencyMs', 0);
  const status = num('status', 100);
  const retryAfterSeconds = num('retryAfterSeconds', 0);
  const hangMs = num('hangMs', 0);
  const count = num('count', 1);
  const skip = num('skip', 0);
  const durationMs = num('durationMs', 1);
  if (kind === 'latency' && latencyMs === undefined) throw new Error('a latency fault needs latencyMs');
  if (kind === 'status' && (status === undefined || status > 599))
    throw new Error('a status fault needs status (100-599)');
  if (latencyMs !== undefined) rule.latencyMs = latencyMs;
  if (status !== undefined) rule.status = status;
  if (retryAfterSeconds !== undefined) rule.retryAfterSeconds = retryAfterSeconds;
  if (hangMs !== undefined) rule.hangMs = hangMs;
  if (count !== undefined) rule.count = Math.floor(count);
  if (skip !== undefined) rule.skip = Math.floor(skip);
  if (durationMs !== undefined) rule.durationMs = durationMs;
  if (raw.method !== undefined) {
    if (typeof raw.method !== 'string' || !raw.method) throw new Error('method must be a non-empty string');
    rule.method = raw.method.toUpperCase();
  }
  if (raw.path !== undefined) {
    if (typeof raw.path !== 'string') throw new Error('path must be a regular expression string');
    new RegExp(raw.path); // throws SyntaxError for a bad pattern
    rule.path = raw.path;
  }
  return rule;
}

/**
 * The first live rule that matches the request, or undefined. Marks the rule
 * applied; a rule past its count or window is dropped from `rules`. A rule that
 * still has requests to `skip` lets this one through (and counts it).
 */
export function takeFault(
  rules: ActiveFault[],
  method: string,
  path: string,
  now: number,
): ActiveFault | undefined {
  for (let i = 0; i < rules.length; ) {
    const rule = rules[i] as ActiveFault;
    const expired =
      (rule.until !== undefined && now > rule.until) ||
      (rule.count !== undefined && rule.applied >= rule.count);
    if (expired) {
      rules.splice(i, 1);
      continue;
    }
    if (
      (rule.method === undefined || rule.method === method.toUpperCase()) &&
      (rule.path === undefined || new RegExp(rule.path).test(path))
    ) {
      if ((rule.skipped ?? 0) < (rule.skip ?? 0)) {
        rule.skipped = (rule.skipped ?? 0) + 1;
        i += 1;
        continue;
      }
      rule.applied += 1;
      if (rule.count !== undefined && rule.applied >= rule.count) rules.splice(i, 1);
      return rule;
    }
    i += 1;
  }
  return undefined;
}

/** A Kubernetes Status body for an injected error status. */
export function statusBody(code: number): Record<string, unknown> {
  const reasons: Record<number, string> = {
    429: 'TooManyRequests',
    500: 'InternalError',
    502: 'BadGateway',
    503: 'ServiceUnavailable',
    504: 'Timeout',
  };
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `testenv fault proxy: injected ${code}`,
    reason: reasons[code] ?? 'Unknown',
    code,
  };
}
