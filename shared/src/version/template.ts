// The `{{name args}}` expressions of tag rules, as metadata-action writes them (a small subset of Handlebars:
// a helper name, quoted or bare arguments and key=value options). Rendering is strict: an unknown name is an error.
import { GreenlightError } from '../runtime/errors.ts';

/** A helper: positional arguments and key=value options to text. */
export type Helper = (args: string[], options: Record<string, string>) => string;

const MUSTACHE = /\{\{\s*([\s\S]*?)\s*\}\}/g;
const TOKEN = /\s*(?:([A-Za-z_][\w-]*)=)?(?:'([^']*)'|"([^"]*)"|([^\s'"]+))/y;

interface Call {
  name: string;
  args: string[];
  options: Record<string, string>;
}

function parseCall(body: string, where: string): Call {
  const tokens: { key?: string; value: string }[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < body.length) {
    const start = TOKEN.lastIndex;
    const match = TOKEN.exec(body);
    if (!match) {
      if (body.slice(start).trim() === '') break;
      throw new GreenlightError({
        what: where,
        reason: `cannot read "{{${body}}}" from character ${start + 1} (unbalanced quote?)`,
      });
    }
    tokens.push({ key: match[1], value: match[2] ?? match[3] ?? match[4] ?? '' });
  }
  const [first, ...rest] = tokens;
  if (!first || first.key !== undefined) {
    throw new GreenlightError({ what: where, reason: `"{{${body}}}" does not start with a name` });
  }
  const call: Call = { name: first.value, args: [], options: {} };
  for (const token of rest) {
    if (token.key === undefined) call.args.push(token.value);
    else call.options[token.key] = token.value;
  }
  return call;
}

/**
 * Replaces every `{{name args key=value}}` in `template` with what the helper of that name returns. `where`
 * names the rule or input for errors; an unknown name or a failing helper is a GreenlightError.
 */
export function renderTemplate(template: string, helpers: Record<string, Helper>, where: string): string {
  return template.replace(MUSTACHE, (_whole, body: string) => {
    const call = parseCall(body, where);
    const helper = Object.hasOwn(helpers, call.name) ? helpers[call.name] : undefined;
    if (!helper) {
      throw new GreenlightError({
        what: where,
        reason: `unknown expression {{${call.name}}}`,
        hint: `known here: ${Object.keys(helpers)
          .map((name) => `{{${name}}}`)
          .join(' ')}`,
      });
    }
    return helper(call.args, call.options);
  });
}

/** True when the template is exactly `{{raw}}` (metadata-action then keeps a pre-release's raw text). */
export function isRawOnly(template: string): boolean {
  return /^\{\{\s*raw\s*\}\}$/.test(template);
}

const DATE_TOKEN = /\[([^\]]*)\]|YYYY|YY|MM|M|DD|D|HH|H|hh|h|mm|m|ss|s|SSS|A|a|X|x|Z/g;

/**
 * Formats a date with the moment.js tokens tag rules use (`YYYYMMDD`, `YYYY-MM-DD-HHmm`, `[v]YYYY.M.D`, ...) in
 * an IANA time zone (UTC by default). Supported tokens: YYYY YY MM M DD D HH H hh h mm m ss s SSS A a X x Z and
 * `[literal text]`.
 */
export function formatDate(date: Date, format: string, timeZone = 'UTC', where = 'date format'): string {
  let parts: Record<string, string>;
  try {
    const formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      timeZoneName: 'longOffset',
    });
    parts = Object.fromEntries(formatter.formatToParts(date).map((part) => [part.type, part.value]));
  } catch (error) {
    throw new GreenlightError({
      what: where,
      reason: `unknown time zone "${timeZone}"`,
      hint: 'use an IANA name such as Europe/Paris or America/New_York',
      cause: error,
    });
  }
  const n = (key: string): number => Number(parts[key]);
  const pad = (value: number, width = 2): string => String(value).padStart(width, '0');
  const hour = n('hour') % 24;
  const offset = (parts.timeZoneName ?? 'GMT').replace('GMT', '') || '+00:00';
  return format.replace(DATE_TOKEN, (token, literal: string | undefined) => {
    if (literal !== undefined) return literal;
    switch (token) {
      case 'YYYY':
        return pad(n('year'), 4);
      case 'YY':
        return pad(n('year') % 100);
      case 'MM':
        return pad(n('month'));
      case 'M':
        return String(n('month'));
      case 'DD':
        return pad(n('day'));
      case 'D':
        return String(n('day'));
      case 'HH':
        return pad(hour);
      case 'H':
        return String(hour);
      case 'hh':
        return pad(hour % 12 || 12);
      case 'h':
        return String(hour % 12 || 12);
      case 'mm':
        return pad(n('minute'));
      case 'm':
        return String(n('minute'));
      case 'ss':
        return pad(n('second'));
      case 's':
        return String(n('second'));
      case 'SSS':
        return pad(date.getUTCMilliseconds(), 3);
      case 'A':
        return hour < 12 ? 'AM' : 'PM';
      case 'a':
        return hour < 12 ? 'am' : 'pm';
      case 'X':
        return String(Math.floor(date.getTime() / 1000));
      case 'x':
        return String(date.getTime());
      default:
        return offset;
    }
  });
}

/** A `date`-style helper over a fixed instant: `{{date 'YYYYMMDD' tz='Asia/Tokyo'}}`. */
export function dateHelper(date: Date | undefined, name: string): Helper {
  return (args, options) => {
    for (const key of Object.keys(options)) {
      if (key !== 'tz') {
        throw new GreenlightError({ what: `{{${name}}}`, reason: `unknown option ${key}= (only tz=)` });
      }
    }
    if (!date) return '';
    return formatDate(date, args[0] ?? 'YYYYMMDD', options.tz ?? 'UTC', `{{${name}}}`);
  };
}
