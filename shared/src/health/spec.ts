import { parseDuration } from '../runtime/duration.ts';
import { InputError } from '../runtime/errors.ts';

interface GateCommon {
  /** A name for logs and the summary; defaults to the kind and its target. */
  name: string;
  /** This gate's own budget; it never runs past the total timeout either. */
  budgetMs?: number;
}

/** The preview Service's EndpointSlices list exactly the candidate's ready pods. */
export interface EndpointsGateSpec extends GateCommon {
  kind: 'endpoints';
  /** Services to check; default: every preview Service of the deploy. */
  services?: string[];
}

/** An HTTP check that must pass `successes` times in a row. */
export interface HttpGateSpec extends GateCommon {
  kind: 'http';
  url: string;
  method: string;
  headers: Record<string, string>;
  /** Accepted status codes. */
  status: number[];
  /** Text the body must contain. */
  body?: string;
  /** A regular expression the body must match. */
  bodyPattern?: string;
  /** Slowest acceptable response. */
  latencyMs?: number;
  intervalMs: number;
  /** Consecutive successes needed. */
  successes: number;
  /** Per-request timeout. */
  requestTimeoutMs: number;
}

/** A Prometheus instant query whose value must stay within bounds for `evaluations` evaluations in a row. */
export interface PrometheusGateSpec extends GateCommon {
  kind: 'prometheus';
  /** Prometheus base URL; default: GREENLIGHT_PROMETHEUS_URL. */
  url?: string;
  query: string;
  min?: number;
  max?: number;
  evaluations: number;
  intervalMs: number;
  /** What an empty result means: keep waiting (`wait`, default), a failure (`fail`) or a pass (`pass`). */
  noData: 'wait' | 'fail' | 'pass';
}

export type GateSpec = EndpointsGateSpec | HttpGateSpec | PrometheusGateSpec;

/** The gates a deploy runs when `health-checks` is empty: the endpoints check only. */
export function defaultGates(): GateSpec[] {
  return [{ kind: 'endpoints', name: 'endpoints' }];
}

type Fields = Record<string, unknown>;

/** The placeholders a gate's URL, header values and query may hold; every run fills in all of them. */
export const GATE_PLACEHOLDERS = ['app', 'color', 'namespace', 'environment', 'revision'] as const;

/** A `{{...}}` in a gate's text, whatever is inside. */
const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

/**
 * Reports each `{{...}}` in `text` that is not one of GATE_PLACEHOLDERS (`{{colour}}`, `{{Color}}`): left as it is,
 * it would reach the URL or query verbatim and surface only as a failing gate after the candidate was applied.
 */
function checkPlaceholders(text: string, field: string, problem: (m: string) => void): void {
  const known = GATE_PLACEHOLDERS as readonly string[];
  for (const match of text.matchAll(PLACEHOLDER)) {
    if (known.includes(match[1] as string)) continue;
    problem(
      `unknown placeholder ${match[0]} in \`${field}\` (known: ${GATE_PLACEHOLDERS.map((name) => `{{${name}}}`).join(', ')})`,
    );
  }
}

/**
 * Parses the `health-checks` input (a YAML list, already parsed) into gate specs. Each entry is a map with one
 * key, the gate kind: `endpoints`, `http` or `prometheus`. Throws one InputError listing every problem.
 */
export function parseGates(value: unknown): GateSpec[] {
  if (value === undefined || value === null || value === '') return defaultGates();
  const problems: string[] = [];
  if (!Array.isArray(value)) {
    throw new InputError(['input `health-checks` must be a YAML list of gates (`- http: {...}`)']);
  }
  const gates: GateSpec[] = [];
  value.forEach((entry, index) => {
    const where = `health-checks[${index}]`;
    if (!entry || typeof entry !== 'object' || Array.isArray(entry)) {
      problems.push(`${where} must be a map such as \`http: { url: ... }\``);
      return;
    }
    const keys = Object.keys(entry);
    if (keys.length !== 1) {
      problems.push(
        `${where} must have exactly one key (endpoints, http or prometheus), got ${keys.join(', ') || 'none'}`,
      );
      return;
    }
    const kind = keys[0] as string;
    const raw = (entry as Fields)[kind] ?? {};
    if (typeof raw !== 'object' || Array.isArray(raw)) {
      problems.push(`${where}.${kind} must be a map`);
      return;
    }
    const fields = raw as Fields;
    const p = (message: string) => problems.push(`${where}.${kind}: ${message}`);
    const common = { name: optionalString(fields, 'name', p), budgetMs: duration(fields, 'budget', p) };
    if (kind === 'endpoints') {
      known(fields, ['name', 'budget', 'services'], p);
      const services = stringList(fields, 'services', p);
      gates.push({ kind, name: common.name ?? 'endpoints', budgetMs: common.budgetMs, services });
    } else if (kind === 'http') {
      known(
        fields,
        [
          'name',
          'budget',
          'url',
          'method',
          'headers',
          'status',
          'body',
          'body-pattern',
          'latency',
          'interval',
          'successes',
          'request-timeout',
        ],
        p,
      );
      const url = optionalString(fields, 'url', p);
      if (!url) p('`url` is required');
      else if (!/^https?:\/\//.test(url)) p(`\`url\` must start with http:// or https://, got "${url}"`);
      if (url) checkPlaceholders(url, 'url', p);
      const status = statusList(fields.status, p);
      const bodyPattern = optionalString(fields, 'body-pattern', p);
      if (bodyPattern) {
        try {
          new RegExp(bodyPattern);
        } catch (error) {
          p(`\`body-pattern\` is not a regular expression: ${(error as Error).message}`);
        }
      }
      const headers = fields.headers ?? {};
      if (typeof headers !== 'object' || Array.isArray(headers)) p('`headers` must be a map');
      else {
        for (const [name, value] of Object.entries(headers as Fields))
          checkPlaceholders(String(value), `headers.${name}`, p);
      }
      gates.push({
        kind,
        name: common.name ?? `http ${url ?? ''}`.trim(),
        budgetMs: common.budgetMs,
        url: url ?? '',
        method: (optionalString(fields, 'method', p) ?? 'GET').toUpperCase(),
        headers: Object.fromEntries(Object.entries(headers as Fields).map(([k, v]) => [k, String(v)])),
        status,
        body: optionalString(fields, 'body', p),
        bodyPattern,
        latencyMs: duration(fields, 'latency', p),
        intervalMs: duration(fields, 'interval', p) ?? 2_000,
        successes: count(fields, 'successes', p) ?? 3,
        requestTimeoutMs: duration(fields, 'request-timeout', p) ?? 10_000,
      });
    } else if (kind === 'prometheus') {
      known(
        fields,
        ['name', 'budget', 'url', 'query', 'min', 'max', 'evaluations', 'interval', 'no-data'],
        p,
      );
      const query = optionalString(fields, 'query', p);
      if (!query) p('`query` is required');
      else checkPlaceholders(query, 'query', p);
      const min = number(fields, 'min', p);
      const max = number(fields, 'max', p);
      if (min === undefined && max === undefined)
        p('give a threshold: `max` (e.g. an error rate) and/or `min`');
      if (min !== undefined && max !== undefined && min > max)
        p(`\`min\` (${min}) is above \`max\` (${max})`);
      const url = optionalString(fields, 'url', p);
      if (url && !/^https?:\/\//.test(url)) p(`\`url\` must start with http:// or https://, got "${url}"`);
      const noData = optionalString(fields, 'no-data', p) ?? 'wait';
      if (!['wait', 'fail', 'pass'].includes(noData))
        p(`\`no-data\` must be wait, fail or pass, got "${noData}"`);
      gates.push({
        kind,
        name: common.name ?? `prometheus ${query ?? ''}`.trim(),
        budgetMs: common.budgetMs,
        url,
        query: query ?? '',
        min,
        max,
        evaluations: count(fields, 'evaluations', p) ?? 3,
        intervalMs: duration(fields, 'interval', p) ?? 10_000,
        noData: noData as PrometheusGateSpec['noData'],
      });
    } else {
      problems.push(`${where}: unknown gate "${kind}" (use endpoints, http or prometheus)`);
    }
  });
  if (problems.length > 0) throw new InputError(problems);
  return gates;
}

function known(fields: Fields, allowed: readonly string[], problem: (m: string) => void): void {
  for (const key of Object.keys(fields)) {
    if (!allowed.includes(key)) problem(`unknown field \`${key}\` (known: ${allowed.join(', ')})`);
  }
}

function optionalString(fields: Fields, key: string, problem: (m: string) => void): string | undefined {
  const value = fields[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  problem(`\`${key}\` must be text`);
  return undefined;
}

function duration(fields: Fields, key: string, problem: (m: string) => void): number | undefined {
  const value = fields[key];
  if (value === undefined || value === null) return undefined;
  const ms = parseDuration(String(value));
  if (ms === undefined) problem(`\`${key}\` must be a duration such as 500ms, 30s or 2m, got "${value}"`);
  return ms;
}

function number(fields: Fields, key: string, problem: (m: string) => void): number | undefined {
  const value = fields[key];
  if (value === undefined || value === null) return undefined;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n)) {
    problem(`\`${key}\` must be a number, got "${value}"`);
    return undefined;
  }
  return n;
}

function count(fields: Fields, key: string, problem: (m: string) => void): number | undefined {
  const n = number(fields, key, problem);
  if (n !== undefined && (!Number.isInteger(n) || n < 1)) {
    problem(`\`${key}\` must be a whole number of at least 1, got ${n}`);
    return undefined;
  }
  return n;
}

function stringList(fields: Fields, key: string, problem: (m: string) => void): string[] | undefined {
  const value = fields[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  problem(`\`${key}\` must be a name or a list of names`);
  return undefined;
}

function statusList(value: unknown, problem: (m: string) => void): number[] {
  if (value === undefined || value === null) return [200];
  const list = Array.isArray(value) ? value : [value];
  const codes: number[] = [];
  for (const item of list) {
    const n = Number(item);
    if (!Number.isInteger(n) || n < 100 || n > 599)
      problem(`\`status\` must be HTTP status codes, got "${item}"`);
    else codes.push(n);
  }
  return codes;
}

/**
 * Replaces `{{app}}`, `{{color}}`, `{{namespace}}`, `{{environment}}` and `{{revision}}` (GATE_PLACEHOLDERS) in a
 * gate's text; parseGates has refused any other.
 */
export function expandPlaceholders(text: string, values: Record<string, string>): string {
  return text.replace(/\{\{\s*([a-z]+)\s*\}\}/g, (whole, key: string) => values[key] ?? whole);
}
