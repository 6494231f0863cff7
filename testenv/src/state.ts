// The state file (.testenv/state.json) records what `up` started, so that a
// second `up` reuses it and `down` stops exactly those processes.
import fs from 'node:fs';
import { paths } from './paths.ts';
import type { Daemon } from './proc.ts';

export interface DaemonRecord extends Daemon {
  log: string;
}

export interface State {
  version: 1;
  ports: Record<string, number>;
  daemons: Record<string, DaemonRecord>;
  registry: { user: string; password: string };
  baseImage?: { ref: string; digest: string };
  env: Record<string, string>;
  createdAt: string;
}

export function readState(): State | undefined {
  let text: string;
  try {
    text = fs.readFileSync(paths.state, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const state = JSON.parse(text) as State;
  if (state.version !== 1)
    throw new Error(`${paths.state}: unknown version ${state.version}; run down, then up`);
  return state;
}

export function writeState(state: State): void {
  fs.mkdirSync(paths.run, { recursive: true });
  const tmp = `${paths.state}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(tmp, paths.state);
}

export function removeState(): void {
  fs.rmSync(paths.state, { force: true });
}

/** `export NAME='value'` lines, quoted for POSIX shells. */
export function formatEnv(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([name, value]) => `export ${name}=${shellQuote(value)}`)
    .join('\n');
}

export function shellQuote(value: string): string {
  if (/^[A-Za-z0-9_./:@%+=,-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Reads `export NAME=value` lines as written by formatEnv. */
export function parseEnv(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^export ([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (!match) continue;
    const [, name, raw] = match as unknown as [string, string, string];
    env[name] = raw.startsWith("'") ? raw.slice(1, -1).replace(/'\\''/g, "'") : raw;
  }
  return env;
}

/**
 * A lock file so that two `up`/`down` runs do not race. A lock whose process
 * is gone is taken over.
 */
export async function withLock<T>(fn: () => Promise<T>, waitMs = 45 * 60_000): Promise<T> {
  fs.mkdirSync(paths.run, { recursive: true });
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      fs.writeFileSync(paths.lock, String(process.pid), { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(fs.readFileSync(paths.lock, 'utf8'));
      if (!holder || !fs.existsSync(`/proc/${holder}`)) {
        fs.rmSync(paths.lock, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`${paths.lock} is held by process ${holder}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(paths.lock, { force: true });
  }
}
