import { type ParseArgsConfig, parseArgs } from 'node:util';
import { actionCommands } from './commands/index.ts';
import { tags } from './commands/tags.ts';
import { type Command, execute, withCancellation } from './runtime/command.ts';
import { describeError } from './runtime/errors.ts';
import { CliHost } from './runtime/host.ts';
import type { InputSpecs } from './runtime/inputs.ts';

/** Commands the CLI offers beyond the four actions (registered by their modules). */
const extraCommands: Record<string, Command> = {};

/** Adds a CLI-only command (such as `tags`). */
export function registerCliCommand(command: Command): void {
  extraCommands[command.name] = command;
}

registerCliCommand(tags as unknown as Command);

function allCommands(): Record<string, Command> {
  return { ...actionCommands, ...extraCommands };
}

const GLOBAL_FLAGS = {
  'summary-file': { type: 'string' },
  'output-file': { type: 'string' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

function usage(): string {
  const lines = ['usage: greenlight <command> [--input value ...]', '', 'commands:'];
  for (const command of Object.values(allCommands()))
    lines.push(`  ${command.name.padEnd(18)} ${command.description}`);
  lines.push('', 'Run `greenlight <command> --help` for its flags. Flags mirror the action inputs.');
  return lines.join('\n');
}

function commandUsage(command: Command): string {
  const lines = [`usage: greenlight ${command.name} [flags]`, '', command.description, '', 'flags:'];
  for (const [name, spec] of Object.entries(command.inputs)) {
    const form = spec.type === 'enum' ? (spec.values ?? []).join('|') : spec.type;
    const extra = [
      spec.required ? 'required' : '',
      spec.default !== undefined ? `default ${spec.default}` : '',
    ]
      .filter(Boolean)
      .join(', ');
    lines.push(`  --${name.padEnd(20)} ${form}${extra ? ` (${extra})` : ''}`);
  }
  lines.push(
    '',
    'Repeat a flag, or separate lines with newlines, for list inputs. Any input can also come from the',
    'environment as INPUT_<NAME> (upper case, as the GitHub runner sets it): use that for secrets.',
    'Logs go to stderr; the outputs are printed as JSON on stdout.',
    '  --summary-file <path>  append the job summary (Markdown) to this file',
    '  --output-file <path>   append outputs in the GITHUB_OUTPUT format to this file',
  );
  return lines.join('\n');
}

function flagOptions(specs: InputSpecs): NonNullable<ParseArgsConfig['options']> {
  const options: NonNullable<ParseArgsConfig['options']> = { ...GLOBAL_FLAGS };
  for (const [name, spec] of Object.entries(specs)) {
    options[name] = spec.type === 'boolean' ? { type: 'boolean' } : { type: 'string', multiple: true };
  }
  return options;
}

/**
 * Runs the CLI with `argv` (without node and script) and returns the exit code. Outputs are printed as one JSON
 * object on stdout; everything else goes to stderr.
 */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage()}\n`);
    return name ? 0 : 2;
  }
  const command = allCommands()[name];
  if (!command) {
    process.stderr.write(`greenlight: unknown command "${name}"\n\n${usage()}\n`);
    return 2;
  }
  let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    values = parseArgs({
      args: [...rest],
      options: flagOptions(command.inputs),
      allowPositionals: false,
      allowNegative: true,
      strict: true,
    }).values;
  } catch (error) {
    process.stderr.write(`greenlight ${name}: ${describeError(error)}\n\n${commandUsage(command)}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${commandUsage(command)}\n`);
    return 0;
  }
  const host = new CliHost({
    summaryFile: values['summary-file'] as string | undefined,
    outputFile: values['output-file'] as string | undefined,
    verbose: values.verbose === true,
  });
  const source = (input: string): string | undefined => {
    const flag = values[input];
    if (Array.isArray(flag)) return flag.join('\n');
    if (typeof flag === 'boolean') return String(flag);
    return env[`INPUT_${input.replace(/ /g, '_').toUpperCase()}`];
  };
  const outputs = await withCancellation((signal) => execute(command, source, host, signal));
  if (!outputs) return 1;
  process.stdout.write(`${host.redact(JSON.stringify(outputs, null, 2))}\n`);
  return 0;
}
