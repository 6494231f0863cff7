import { appendFileSync } from 'node:fs';
import * as core from '@actions/core';
import { describeError } from './errors.ts';

/** Where a finding or failure points in the repository. */
export interface AnnotationPlace {
  title?: string;
  file?: string;
  line?: number;
  endLine?: number;
  column?: number;
}

export type AnnotationLevel = 'error' | 'warning' | 'notice';

/**
 * Everything a command does to the world around it besides its real work: logs, groups, outputs, the job
 * summary, annotations and masking. One implementation drives the GitHub runner, another the CLI.
 */
export interface Host {
  info(message: string): void;
  debug(message: string): void;
  warning(message: string, place?: AnnotationPlace): void;
  /** A finding or failure tied to a file and line; shown inline on pull requests under GitHub. */
  annotate(level: AnnotationLevel, message: string, place?: AnnotationPlace): void;
  /** Runs `fn` inside a collapsible log group. */
  group<T>(name: string, fn: () => Promise<T>): Promise<T>;
  setOutput(name: string, value: string): void;
  /** Registers a value that must never appear in a log. */
  secret(value: string): void;
  /** Appends Markdown to the job summary. */
  summary(markdown: string): Promise<void>;
}

/** The host for GitHub Actions, built on @actions/core (workflow commands, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY). */
export class ActionsHost implements Host {
  info(message: string): void {
    core.info(message);
  }
  debug(message: string): void {
    core.debug(message);
  }
  warning(message: string, place?: AnnotationPlace): void {
    core.warning(message, toProperties(place));
  }
  annotate(level: AnnotationLevel, message: string, place?: AnnotationPlace): void {
    const properties = toProperties(place);
    if (level === 'error') core.error(message, properties);
    else if (level === 'warning') core.warning(message, properties);
    else core.notice(message, properties);
  }
  group<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return core.group(name, fn);
  }
  setOutput(name: string, value: string): void {
    core.setOutput(name, value);
  }
  secret(value: string): void {
    core.setSecret(value);
  }
  async summary(markdown: string): Promise<void> {
    if (!process.env.GITHUB_STEP_SUMMARY) return;
    await core.summary.addRaw(markdown, true).write();
  }
}

function toProperties(place: AnnotationPlace | undefined): core.AnnotationProperties {
  if (!place) return {};
  return {
    title: place.title,
    file: place.file,
    startLine: place.line,
    endLine: place.endLine ?? place.line,
    startColumn: place.column,
  };
}

/** Replaces every registered secret in `text` with `***`. */
export function redact(text: string, secrets: ReadonlySet<string>): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 3) out = out.split(secret).join('***');
  }
  return out;
}

export interface CliHostOptions {
  /** Writes the job summary Markdown here (appending), when set. */
  summaryFile?: string;
  /** Writes outputs in GITHUB_OUTPUT's `name<<delimiter` form here, when set. */
  outputFile?: string;
  verbose?: boolean;
  write?: (line: string) => void;
}

/**
 * The host for the CLI: logs go to stderr with every secret redacted, outputs are collected for printing as
 * JSON on stdout, annotations become `file:line: level: message` lines any editor or CI can read.
 */
export class CliHost implements Host {
  readonly outputs: Record<string, string> = {};
  private readonly secrets = new Set<string>();
  private readonly options: CliHostOptions;
  private depth = 0;

  constructor(options: CliHostOptions = {}) {
    this.options = options;
  }

  private write(line: string): void {
    const text = `${'  '.repeat(this.depth)}${redact(line, this.secrets)}`;
    if (this.options.write) this.options.write(text);
    else process.stderr.write(`${text}\n`);
  }
  info(message: string): void {
    this.write(message);
  }
  debug(message: string): void {
    if (this.options.verbose) this.write(`debug: ${message}`);
  }
  warning(message: string, place?: AnnotationPlace): void {
    this.annotate('warning', message, place);
  }
  annotate(level: AnnotationLevel, message: string, place?: AnnotationPlace): void {
    const where = place?.file ? `${place.file}${place.line ? `:${place.line}` : ''}: ` : '';
    this.write(`${where}${level}: ${place?.title ? `${place.title}: ` : ''}${message}`);
  }
  async group<T>(name: string, fn: () => Promise<T>): Promise<T> {
    this.write(`▸ ${name}`);
    this.depth += 1;
    try {
      return await fn();
    } finally {
      this.depth -= 1;
    }
  }
  setOutput(name: string, value: string): void {
    this.outputs[name] = value;
    if (this.options.outputFile) {
      const delimiter = `ghadelimiter_${Math.random().toString(36).slice(2)}`;
      appendFileSync(this.options.outputFile, `${name}<<${delimiter}\n${value}\n${delimiter}\n`);
    }
  }
  secret(value: string): void {
    if (value) this.secrets.add(value);
  }
  async summary(markdown: string): Promise<void> {
    if (this.options.summaryFile) appendFileSync(this.options.summaryFile, redact(markdown, this.secrets));
  }
  /** Redacts secrets from text that is about to leave the process (stdout JSON). */
  redact(text: string): string {
    return redact(text, this.secrets);
  }
}

/** Logs progress of a long wait at most every `everyMs`, and always when the state text changes. */
export class Progress {
  private lastText = '';
  private lastAt = 0;
  private readonly started: number;
  private readonly host: Host;
  private readonly everyMs: number;
  private readonly now: () => number;

  constructor(host: Host, everyMs = 10_000, now: () => number = Date.now) {
    this.host = host;
    this.everyMs = everyMs;
    this.now = now;
    this.started = now();
  }

  /** Reports the current state; the elapsed seconds are appended. */
  update(text: string): void {
    const at = this.now();
    if (text === this.lastText && at - this.lastAt < this.everyMs) return;
    this.lastText = text;
    this.lastAt = at;
    this.host.info(`${text}, ${Math.round((at - this.started) / 1000)} s`);
  }
}

export { describeError };
