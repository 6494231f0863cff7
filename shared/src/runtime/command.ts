import * as core from '@actions/core';
import { describeError, GreenlightError } from './errors.ts';
import { ActionsHost, type Host } from './host.ts';
import { type InputSource, type InputSpecs, type Inputs, readInputs } from './inputs.ts';
import { PhaseClock, SummaryBuilder } from './summary.ts';

/** What a command gets besides its inputs. */
export interface CommandContext {
  host: Host;
  /** The job summary being built; the edge writes it once the command ends, also on failure. */
  summary: SummaryBuilder;
  clock: PhaseClock;
  /** Aborted when the runner cancels the job (SIGINT/SIGTERM): stop waiting, clean up, release locks. */
  signal: AbortSignal;
  /** The process environment (GITHUB_* variables, KUBECONFIG). */
  env: NodeJS.ProcessEnv;
}

/** A command: its inputs and a function from typed inputs to outputs. The same object backs the action and the CLI. */
export interface Command<S extends InputSpecs = InputSpecs> {
  name: string;
  /** One line for `--help`. */
  description: string;
  inputs: S;
  /** The outputs this command sets, by name (checked against action.yml). */
  outputs: readonly string[];
  run(inputs: Inputs<S>, context: CommandContext): Promise<Record<string, string>>;
}

/** Declares a command with its input types inferred from the spec. */
export function defineCommand<S extends InputSpecs>(command: Command<S>): Command<S> {
  return command;
}

/** Runs `fn` with an AbortSignal that fires on SIGINT or SIGTERM, the way the runner cancels a job. */
export async function withCancellation<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => controller.abort(new Error(`cancelled by ${signal}`));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await fn(controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/**
 * Runs a command with inputs from `source` on `host`: reads and validates inputs (masking secrets first), runs
 * it, sets its outputs, writes the summary, and on failure reports what failed and where. Returns the outputs,
 * or undefined when the command failed (the failure is already reported and the exit code set).
 */
export async function execute<S extends InputSpecs>(
  command: Command<S>,
  source: InputSource,
  host: Host,
  signal: AbortSignal,
): Promise<Record<string, string> | undefined> {
  const summary = new SummaryBuilder();
  const clock = new PhaseClock();
  try {
    const inputs = readInputs(command.inputs, source, (value) => host.secret(value));
    const outputs = await command.run(inputs, { host, summary, clock, signal, env: process.env });
    for (const [name, value] of Object.entries(outputs)) host.setOutput(name, value);
    return outputs;
  } catch (error) {
    reportFailure(command.name, error, host, summary);
    process.exitCode = 1;
    return undefined;
  } finally {
    if (!summary.isEmpty()) await host.summary(summary.toString());
  }
}

/** Reports a failure as an error annotation (at its file and line when known) and a summary section. */
export function reportFailure(
  commandName: string,
  error: unknown,
  host: Host,
  summary: SummaryBuilder,
): void {
  const message = describeError(error);
  if (error instanceof GreenlightError) {
    host.annotate('error', message, {
      title: `${commandName}: ${error.what}`,
      file: error.file,
      line: error.line,
    });
  } else {
    host.annotate('error', message, { title: `${commandName} failed` });
    if (error instanceof Error && error.stack) host.debug(error.stack);
  }
  summary.heading(`❌ ${commandName} failed`, 3).text(message);
}

/** The entry point of an action bundle: inputs from INPUT_* variables, everything else through @actions/core. */
export async function runAction<S extends InputSpecs>(command: Command<S>): Promise<void> {
  const host = new ActionsHost();
  await withCancellation((signal) => execute(command, (name) => core.getInput(name), host, signal));
}
