import { parse as parseYaml } from 'yaml';
import { parseDuration } from './duration.ts';
import { InputError } from './errors.ts';

/** The forms an input can take. Each parses from the string the runner (or the CLI) hands over. */
export type InputType = 'string' | 'boolean' | 'duration' | 'int' | 'enum' | 'list' | 'lines' | 'yaml';

/** One input of an action: its form, its default and whether it is secret. Descriptions live in action.yml. */
export interface InputSpec {
  type: InputType;
  /** The default as action.yml states it; applied when the input is empty. */
  default?: string;
  required?: boolean;
  /** Masked in every log before anything is printed. */
  secret?: boolean;
  /** Allowed values for `enum`. */
  values?: readonly string[];
  /** Bounds for `int`. */
  min?: number;
  max?: number;
}

export type InputSpecs = Record<string, InputSpec>;

type Always<S extends InputSpec> = S extends { required: true }
  ? true
  : S extends { default: string }
    ? true
    : false;
type Scalar<S extends InputSpec, T> = Always<S> extends true ? T : T | undefined;
type ValueOf<S extends InputSpec> = S['type'] extends 'boolean'
  ? boolean
  : S['type'] extends 'duration' | 'int'
    ? Scalar<S, number>
    : S['type'] extends 'list' | 'lines'
      ? string[]
      : S['type'] extends 'yaml'
        ? unknown
        : Scalar<S, string>;

/** The typed, validated inputs of a command, keyed by the names action.yml uses. */
export type Inputs<S extends InputSpecs> = { -readonly [N in keyof S]: ValueOf<S[N]> };

/** Where raw input strings come from: the runner's INPUT_* variables, or CLI flags. Empty means unset. */
export type InputSource = (name: string) => string | undefined;

const TRUE = ['true', 'True', 'TRUE', 'yes', 'on', '1'];
const FALSE = ['false', 'False', 'FALSE', 'no', 'off', '0'];

/** Splits a list input on newlines and commas, trimming entries and dropping empty ones and `#` comments. */
export function splitList(text: string): string[] {
  return text
    .split(/\r?\n/)
    .flatMap((line) => (line.trimStart().startsWith('#') ? [] : line.split(',')))
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** Splits a multi-line input into its non-empty lines, keeping commas inside a line. */
export function splitLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

function parseOne(name: string, spec: InputSpec, raw: string): { value?: unknown; problem?: string } {
  switch (spec.type) {
    case 'string':
      return { value: raw };
    case 'boolean':
      if (TRUE.includes(raw)) return { value: true };
      if (FALSE.includes(raw)) return { value: false };
      return { problem: `input \`${name}\` must be true or false, got "${raw}"` };
    case 'duration': {
      const ms = parseDuration(raw);
      if (ms === undefined) {
        return { problem: `input \`${name}\` must be a duration such as 90s, 5m or 1h30m, got "${raw}"` };
      }
      return { value: ms };
    }
    case 'int': {
      if (!/^-?\d+$/.test(raw)) return { problem: `input \`${name}\` must be a whole number, got "${raw}"` };
      const n = Number(raw);
      if (spec.min !== undefined && n < spec.min) {
        return { problem: `input \`${name}\` must be at least ${spec.min}, got ${n}` };
      }
      if (spec.max !== undefined && n > spec.max) {
        return { problem: `input \`${name}\` must be at most ${spec.max}, got ${n}` };
      }
      return { value: n };
    }
    case 'enum':
      if (!spec.values?.includes(raw)) {
        return { problem: `input \`${name}\` must be one of ${spec.values?.join('|')}, got "${raw}"` };
      }
      return { value: raw };
    case 'list':
      return { value: splitList(raw) };
    case 'lines':
      return { value: splitLines(raw) };
    case 'yaml':
      try {
        return { value: parseYaml(raw, { prettyErrors: true, strict: true }) };
      } catch (error) {
        const detail = error instanceof Error ? error.message.split('\n')[0] : String(error);
        return { problem: `input \`${name}\` must be valid YAML: ${detail}` };
      }
  }
}

/** The value an unset input takes when it has no default. */
function emptyValue(spec: InputSpec): unknown {
  if (spec.type === 'boolean') return false;
  if (spec.type === 'list' || spec.type === 'lines') return [];
  return undefined;
}

/**
 * Reads and validates every input of a command. Secret inputs are handed to `mask` before any validation, so no
 * later log line can show them. Throws one InputError listing every problem found.
 */
export function readInputs<S extends InputSpecs>(
  specs: S,
  source: InputSource,
  mask: (secret: string) => void = () => {},
): Inputs<S> {
  const values: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, spec] of Object.entries(specs)) {
    const given = source(name);
    if (spec.secret && given) mask(given);
    const raw = given?.trim()
      ? spec.type === 'yaml' || spec.type === 'lines'
        ? given
        : given.trim()
      : undefined;
    if (raw === undefined && spec.default === undefined) {
      if (spec.required) problems.push(`input \`${name}\` is required and was not given`);
      values[name] = emptyValue(spec);
      continue;
    }
    const text = raw ?? (spec.default as string);
    const parsed = parseOne(name, spec, text);
    if (parsed.problem) problems.push(spec.secret ? parsed.problem.split(text).join('***') : parsed.problem);
    else values[name] = parsed.value;
  }
  if (problems.length > 0) throw new InputError(problems);
  return values as Inputs<S>;
}
