import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import { LineCounter, parseDocument } from 'yaml';
import { lineInYaml } from '../chart/manifests.ts';
import { parseDuration } from '../runtime/duration.ts';
import { GreenlightError } from '../runtime/errors.ts';
import type { Severity } from './types.ts';

/** A finding silenced on purpose: which rule, where, why, and until when. */
export interface Suppression {
  rule: string;
  /** `Kind/name` or `Kind/namespace/name`; `*` matches any part. Absent: every object. */
  object?: string;
  /** A file path (relative to the repository) or a prefix ending in `/`. Absent: every file. */
  file?: string;
  reason: string;
  /** `YYYY-MM-DD`: the suppression stops applying after this day (UTC). */
  expires?: string;
  /** Where the suppression is written, for notes about it. */
  source?: { file: string; line?: number };
}

/** Numbers some rules take. */
export interface AuditSettings {
  /** Live: restarts in the window above which a container counts as crash-looping. */
  restartThreshold: number;
  /** Live: how far back restarts and OOM kills count, in milliseconds. */
  restartWindowMs: number;
  /** Live: how long a pod may be not ready before it is reported, in milliseconds. */
  notReadyAfterMs: number;
  /** Seconds a slow starter may need before liveness may kill it. */
  slowStartSeconds: number;
  /** Live: how long after a deploy a scaled-up candidate still counts as recent, in milliseconds. */
  candidateGraceMs: number;
}

/** The audit config: per-rule severity, suppressions, allowed registries, and settings. */
export interface AuditConfig {
  /** Severity overrides by rule ID; `off` disables the rule. */
  rules: Record<string, Severity | 'off'>;
  /** Registries (host, or host/path prefix) images may come from; empty means any. */
  allowedRegistries: string[];
  /** The audited manifests deploy to production: images must be pinned by digest. */
  production: boolean;
  /** The release map file (relative to the repository root) the versioning rules check charts against. */
  releaseMap?: string;
  suppressions: Suppression[];
  settings: AuditSettings;
}

export const DEFAULT_SETTINGS: Readonly<AuditSettings> = {
  restartThreshold: 5,
  restartWindowMs: 24 * 3_600_000,
  notReadyAfterMs: 5 * 60_000,
  slowStartSeconds: 300,
  candidateGraceMs: 24 * 3_600_000,
};

/** The config used when no file is given. */
export function defaultConfig(): AuditConfig {
  return {
    rules: {},
    allowedRegistries: [],
    production: false,
    suppressions: [],
    settings: { ...DEFAULT_SETTINGS },
  };
}

const RULE_ID = '^GL-[A-Z]+-[0-9]{3}$';
const DURATION_TEXT = { type: 'string', minLength: 1 };

/** The JSON schema of the config file (written in YAML or JSON). */
export const CONFIG_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    rules: {
      type: 'object',
      propertyNames: { pattern: RULE_ID },
      additionalProperties: { enum: ['error', 'warning', 'notice', 'off'] },
    },
    allowedRegistries: { type: 'array', items: { type: 'string', minLength: 1 } },
    production: { type: 'boolean' },
    releaseMap: { type: 'string', minLength: 1 },
    settings: {
      type: 'object',
      additionalProperties: false,
      properties: {
        restartThreshold: { type: 'integer', minimum: 1 },
        restartWindow: DURATION_TEXT,
        notReadyAfter: DURATION_TEXT,
        slowStartSeconds: { type: 'integer', minimum: 1 },
        candidateGrace: DURATION_TEXT,
      },
    },
    suppressions: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['rule', 'reason'],
        properties: {
          rule: { type: 'string', pattern: RULE_ID },
          object: { type: 'string', minLength: 1 },
          file: { type: 'string', minLength: 1 },
          reason: { type: 'string', pattern: '\\S' },
          expires: { type: 'string', pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' },
        },
      },
    },
  },
} as const;

const ajv = new Ajv({ allErrors: true, strict: true });
const validateConfig = ajv.compile(CONFIG_SCHEMA);

function describeAjvError(error: ErrorObject): string {
  const where =
    error.instancePath === '' ? 'the config' : `\`${error.instancePath.slice(1).replace(/\//g, '.')}\``;
  if (error.propertyName)
    return `${where} has a key \`${error.propertyName}\` that is not a rule ID such as GL-RES-001`;
  if (error.keyword === 'required') return `${where} needs \`${String(error.params.missingProperty)}\``;
  if (error.keyword === 'additionalProperties')
    return `${where} has an unknown key \`${String(error.params.additionalProperty)}\``;
  if (error.keyword === 'pattern' && error.instancePath.endsWith('/reason'))
    return `${where} must give a reason`;
  if (error.keyword === 'pattern' && error.instancePath.endsWith('/expires'))
    return `${where} must be a date written YYYY-MM-DD`;
  if (error.keyword === 'enum')
    return `${where} must be one of ${(error.params.allowedValues as string[]).join(', ')}`;
  return `${where} ${error.message ?? 'is invalid'}`;
}

/**
 * Parses an audit config from YAML (or JSON) text. `file` names it in errors; `knownRules` are the rule IDs that
 * exist, so a typo in an ID is an error rather than a silent no-op. Throws a GreenlightError at the line of the
 * first problem, listing all of them.
 */
export function parseConfig(text: string, file: string, knownRules: readonly string[]): AuditConfig {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter });
  const syntax = doc.errors[0];
  if (syntax) {
    throw new GreenlightError({
      what: `read audit config ${file}`,
      reason: `not valid YAML: ${syntax.message.split('\n')[0]}`,
      file,
      line: syntax.linePos?.[0]?.line,
    });
  }
  const raw: unknown = doc.toJS() ?? {};
  const problems: { message: string; line?: number }[] = [];
  const lineAt = (pointer: string) =>
    lineInYaml(
      doc.contents,
      pointer
        .split('/')
        .slice(1)
        .map((part) => (/^\d+$/.test(part) ? Number(part) : part)),
      counter,
    );
  if (!validateConfig(raw)) {
    for (const error of validateConfig.errors ?? []) {
      // A bad key yields a `pattern` error carrying `propertyName` and a `propertyNames` summary: keep the first.
      if (error.keyword === 'propertyNames') continue;
      const pointer = error.propertyName ? `${error.instancePath}/${error.propertyName}` : error.instancePath;
      problems.push({ message: describeAjvError(error), line: lineAt(pointer) });
    }
  }
  const data = (problems.length === 0 ? raw : {}) as {
    rules?: Record<string, Severity | 'off'>;
    allowedRegistries?: string[];
    production?: boolean;
    releaseMap?: string;
    settings?: Record<string, string | number>;
    suppressions?: Omit<Suppression, 'source'>[];
  };
  for (const id of Object.keys(data.rules ?? {})) {
    if (!knownRules.includes(id))
      problems.push({ message: `\`rules\` names unknown rule ${id}`, line: lineAt(`/rules/${id}`) });
  }
  (data.suppressions ?? []).forEach((suppression, index) => {
    if (!knownRules.includes(suppression.rule)) {
      problems.push({
        message: `suppression ${index + 1} names unknown rule ${suppression.rule}`,
        line: lineAt(`/suppressions/${index}/rule`),
      });
    }
    if (suppression.expires && !isCalendarDate(suppression.expires)) {
      problems.push({
        message: `suppression ${index + 1} expires on a date that does not exist`,
        line: lineAt(`/suppressions/${index}/expires`),
      });
    }
  });
  const settings = { ...DEFAULT_SETTINGS };
  const durations: [string, keyof AuditSettings][] = [
    ['restartWindow', 'restartWindowMs'],
    ['notReadyAfter', 'notReadyAfterMs'],
    ['candidateGrace', 'candidateGraceMs'],
  ];
  for (const [key, target] of durations) {
    const value = data.settings?.[key];
    if (value === undefined) continue;
    const ms = parseDuration(String(value));
    if (ms === undefined)
      problems.push({
        message: `\`settings.${key}\` must be a duration such as 30m or 24h`,
        line: lineAt(`/settings/${key}`),
      });
    else settings[target] = ms;
  }
  if (typeof data.settings?.restartThreshold === 'number')
    settings.restartThreshold = data.settings.restartThreshold;
  if (typeof data.settings?.slowStartSeconds === 'number')
    settings.slowStartSeconds = data.settings.slowStartSeconds;
  if (problems.length > 0) {
    throw new GreenlightError({
      what: `read audit config ${file}`,
      reason: problems
        .map((problem) => `${problem.message}${problem.line ? ` (line ${problem.line})` : ''}`)
        .join('; '),
      hint: 'see docs/audit.md#config for the form of the config file',
      file,
      line: problems[0]?.line,
    });
  }
  return {
    rules: data.rules ?? {},
    allowedRegistries: data.allowedRegistries ?? [],
    production: data.production ?? false,
    releaseMap: data.releaseMap,
    suppressions: (data.suppressions ?? []).map((suppression, index) => ({
      ...suppression,
      source: { file, line: lineAt(`/suppressions/${index}`) },
    })),
    settings,
  };
}

/** True when `text` (YYYY-MM-DD) names a day that exists: 2026-02-30 does not. */
function isCalendarDate(text: string): boolean {
  const ms = Date.parse(`${text}T00:00:00Z`);
  return !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 10) === text;
}

/** Reads and parses an audit config file; see parseConfig. */
export function loadConfig(path: string, displayName: string, knownRules: readonly string[]): AuditConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new GreenlightError({
      what: `read audit config ${displayName}`,
      reason: (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String(error),
      hint: 'the `config` input is a path relative to the repository root',
      cause: error,
    });
  }
  return parseConfig(text, displayName, knownRules);
}
