// Tag rules and flavor in docker/metadata-action's syntax (`type=semver,pattern={{version}}`), parsed once into
// typed objects, plus Greenlight's `type=channel`.
import { GreenlightError } from '../runtime/errors.ts';

export const RULE_TYPES = ['schedule', 'semver', 'match', 'edge', 'ref', 'raw', 'sha', 'channel'] as const;
export type RuleType = (typeof RULE_TYPES)[number];

/** Default priorities: the highest-priority rule that produces a tag gives the canonical version. */
export const DEFAULT_PRIORITY: Record<RuleType, number> = {
  schedule: 1000,
  semver: 900,
  channel: 850,
  match: 800,
  edge: 700,
  ref: 600,
  raw: 200,
  sha: 100,
};

/** The rules used when none are given, as metadata-action does. */
export const DEFAULT_TAG_RULES = [
  'type=schedule',
  'type=ref,event=branch',
  'type=ref,event=tag',
  'type=ref,event=pr',
];

const COMMON = ['enable', 'priority', 'prefix', 'suffix'];
const ATTRIBUTES: Record<RuleType, string[]> = {
  schedule: ['pattern'],
  semver: ['pattern', 'value'],
  match: ['pattern', 'group', 'value'],
  edge: ['branch'],
  ref: ['event'],
  raw: ['value'],
  sha: ['format'],
  channel: ['value'],
};

/** One parsed tag rule. */
export interface TagRule {
  type: RuleType;
  /** Attributes as written, with defaults filled in (`pattern=nightly`, `prefix=sha-`, ...). */
  attrs: Record<string, string>;
  priority: number;
  /** The rule as the user wrote it, for explanations and errors. */
  text: string;
  /** Its position in the input (0-based), to keep order among equal priorities. */
  index: number;
}

/** The flavor: `latest=auto|true|false`, a global `prefix=`/`suffix=` and whether they apply to `latest`. */
export interface Flavor {
  latest: 'auto' | 'true' | 'false';
  prefix: string;
  prefixLatest: boolean;
  suffix: string;
  suffixLatest: boolean;
}

function ruleError(text: string, reason: string, hint?: string): GreenlightError {
  return new GreenlightError({ what: `tag rule "${text}"`, reason, hint });
}

/**
 * Splits one line into comma-separated fields, CSV style: a field may be double-quoted to hold commas, and `""`
 * inside quotes is a literal quote.
 */
export function splitFields(line: string, what: string): string[] {
  const fields: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const char = line[i] as string;
    if (quoted) {
      if (char === '"' && line[i + 1] === '"') {
        current += '"';
        i++;
      } else if (char === '"') quoted = false;
      else current += char;
    } else if (char === '"' && current.trim() === '') {
      quoted = true;
      current = '';
    } else if (char === '"') {
      throw new GreenlightError({
        what,
        reason: `a double quote inside the field "${current.trim()}${line.slice(i).split(',')[0]}"`,
        hint: 'quote the whole field instead: "value=a,b"',
      });
    } else if (char === ',') {
      fields.push(current);
      current = '';
    } else current += char;
  }
  if (quoted) {
    throw new GreenlightError({
      what,
      reason: 'a double quote is never closed',
      hint: 'close it, or double it ("") inside a quoted field',
    });
  }
  fields.push(current);
  return fields.map((field) => field.trim()).filter((field) => field !== '');
}

/** Splits `key=value` at the first `=`; a field without one is a bare value. */
function keyValue(field: string): [string | undefined, string] {
  const eq = field.indexOf('=');
  if (eq <= 0) return [undefined, field];
  return [field.slice(0, eq).trim().toLowerCase(), field.slice(eq + 1).trim()];
}

/** Parses one tag rule line, filling in metadata-action's defaults. Unknown types and attributes are errors. */
export function parseTagRule(text: string, index = 0): TagRule {
  const attrs: Record<string, string> = {};
  let type: RuleType | undefined;
  for (const field of splitFields(text, `tag rule "${text}"`)) {
    const [key, value] = keyValue(field);
    if (key === undefined) {
      attrs.value = value;
    } else if (key === 'type') {
      if (!(RULE_TYPES as readonly string[]).includes(value)) {
        throw ruleError(
          text,
          `unknown type "${value}"`,
          value === 'pep440'
            ? 'PEP 440 versions are not supported; use type=semver or type=match'
            : `use one of ${RULE_TYPES.join(', ')}`,
        );
      }
      type = value as RuleType;
    } else {
      if (Object.hasOwn(attrs, key)) throw ruleError(text, `attribute ${key}= is given twice`);
      attrs[key] = value;
    }
  }
  const ruleType: RuleType = type ?? 'raw';
  const allowed = [...COMMON, ...ATTRIBUTES[ruleType]];
  for (const key of Object.keys(attrs)) {
    if (!allowed.includes(key)) {
      throw ruleError(
        text,
        `type=${ruleType} has no attribute ${key}=`,
        `its attributes: ${allowed.join(', ')}`,
      );
    }
  }
  const need = (key: string): void => {
    if (!Object.hasOwn(attrs, key)) throw ruleError(text, `type=${ruleType} needs ${key}=`);
  };
  switch (ruleType) {
    case 'schedule':
      attrs.pattern ??= 'nightly';
      break;
    case 'semver':
      need('pattern');
      break;
    case 'match':
      need('pattern');
      attrs.group ??= '0';
      if (!/^\d+$/.test(attrs.group)) throw ruleError(text, `group=${attrs.group} is not a group number`);
      break;
    case 'ref':
      need('event');
      if (!['branch', 'tag', 'pr'].includes(attrs.event as string)) {
        throw ruleError(text, `event=${attrs.event} is not one of branch, tag, pr`);
      }
      if (attrs.event === 'pr') attrs.prefix ??= 'pr-';
      break;
    case 'raw':
      need('value');
      break;
    case 'sha':
      attrs.prefix ??= 'sha-';
      attrs.format ??= 'short';
      if (!['short', 'long'].includes(attrs.format)) {
        throw ruleError(text, `format=${attrs.format} is not one of short, long`);
      }
      break;
    default:
      break;
  }
  let priority = DEFAULT_PRIORITY[ruleType];
  if (attrs.priority !== undefined) {
    if (!/^-?\d+$/.test(attrs.priority))
      throw ruleError(text, `priority=${attrs.priority} is not a whole number`);
    priority = Number(attrs.priority);
  }
  return { type: ruleType, attrs, priority, text, index };
}

/**
 * Parses tag rules (one per entry; blank entries and `#` comments are skipped) and orders them by priority,
 * highest first, keeping the written order among equals. No rules means metadata-action's defaults.
 */
export function parseTagRules(lines: readonly string[]): TagRule[] {
  const given = lines.map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
  const rules = (given.length > 0 ? given : DEFAULT_TAG_RULES).map((line, index) =>
    parseTagRule(line, index),
  );
  return rules.sort((a, b) => b.priority - a.priority || a.index - b.index);
}

/** Parses flavor lines (`latest=auto`, `prefix=v,onlatest=true`, `suffix=-alpine`). */
export function parseFlavor(lines: readonly string[]): Flavor {
  const flavor: Flavor = { latest: 'auto', prefix: '', prefixLatest: false, suffix: '', suffixLatest: false };
  for (const line of lines) {
    if (line.trim() === '' || line.trim().startsWith('#')) continue;
    let onLatestFor: 'prefix' | 'suffix' | undefined;
    const what = `flavor "${line}"`;
    for (const field of splitFields(line, what)) {
      const [key, value] = keyValue(field);
      switch (key) {
        case 'latest':
          if (value !== 'auto' && value !== 'true' && value !== 'false') {
            throw new GreenlightError({ what, reason: `latest=${value} is not one of auto, true, false` });
          }
          flavor.latest = value;
          break;
        case 'prefix':
          flavor.prefix = value;
          onLatestFor = 'prefix';
          break;
        case 'suffix':
          flavor.suffix = value;
          onLatestFor = 'suffix';
          break;
        case 'onlatest':
          if (value !== 'true' && value !== 'false') {
            throw new GreenlightError({ what, reason: `onlatest=${value} is not true or false` });
          }
          if (!onLatestFor) {
            throw new GreenlightError({
              what,
              reason: 'onlatest= must follow a prefix= or suffix= on its line',
            });
          }
          if (onLatestFor === 'prefix') flavor.prefixLatest = value === 'true';
          else flavor.suffixLatest = value === 'true';
          break;
        default:
          throw new GreenlightError({
            what,
            reason: key === undefined ? `"${value}" is not key=value` : `unknown flavor ${key}=`,
            hint: 'flavor takes latest=, prefix=, suffix= and onlatest=',
          });
      }
    }
  }
  return flavor;
}

/** A rule written back in one normalised line (`type=sha,format=short,prefix=sha-`), for explanations. */
export function formatRule(rule: TagRule): string {
  const attrs = Object.entries(rule.attrs).map(([key, value]) => `${key}=${value}`);
  return [`type=${rule.type}`, ...attrs].join(',');
}
