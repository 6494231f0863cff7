// Child processes: one-shot commands and long-running daemons. Always argument
// arrays, never a shell string.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export class CommandError extends Error {
  readonly command: string[];
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  constructor(command: string[], code: number | null, stdout: string, stderr: string, hint?: string) {
    const tail = (stderr || stdout).trim().split('\n').slice(-15).join('\n');
    super(`command failed (exit ${code}): ${command.join(' ')}\n${tail}${hint ? `\nhint: ${hint}` : ''}`);
    this.name = 'CommandError';
    this.command = command;
    this.code = code;
    this.stdout = stdout;
    this.stderr = stderr;
  }
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string | Buffer;
  /** Append stdout and stderr to this file as well as capturing them. */
  logTo?: string;
  timeoutMs?: number;
  hint?: string;
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; rejects with CommandError on a non-zero exit. */
export function run(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: options.timeoutMs,
      killSignal: 'SIGKILL',
    });
    const log = options.logTo ? fs.createWriteStream(options.logTo, { flags: 'a' }) : undefined;
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => {
      out.push(chunk);
      log?.write(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err.push(chunk);
      log?.write(chunk);
    });
    child.on('error', (error) => {
      log?.end();
      reject(new CommandError([command, ...args], null, '', String(error), options.hint));
    });
    child.on('close', (code) => {
      log?.end();
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      if (code === 0) resolve({ stdout, stderr });
      else reject(new CommandError([command, ...args], code, stdout, stderr, options.hint));
    });
    // A command may exit without reading its input; that shows in its exit status, not here.
    child.stdin.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') reject(error);
    });
    if (options.input === undefined) child.stdin.end();
    else child.stdin.end(options.input);
  });
}

/** True when `command` can be found on PATH (or is an existing path). */
export function which(command: string): string | undefined {
  if (command.includes('/')) return fs.existsSync(command) ? command : undefined;
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (!dir) continue;
    const candidate = `${dir}/${command}`;
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not in this directory; keep looking
    }
  }
  return undefined;
}

export interface Daemon {
  pid: number;
  /** Kernel start time of the process (clock ticks since boot), to tell it from a reused pid. */
  startTime: string;
}

export interface DaemonOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  log: string;
}

/**
 * Starts a long-running process in its own process group (so that `down` can
 * stop it and anything it forks with one signal), detached from the caller,
 * with stdout and stderr appended to `log`.
 */
export function startDaemon(command: string, args: string[], options: DaemonOptions): Daemon {
  const fd = fs.openSync(options.log, 'a');
  try {
    fs.writeSync(fd, `\n=== ${new Date().toISOString()} ${command} ${args.join(' ')}\n`);
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    if (child.pid === undefined) throw new Error(`could not start ${command}`);
    child.on('error', () => {
      // reported through the health check and the log
    });
    child.unref();
    const startTime = processStartTime(child.pid);
    if (startTime === undefined) {
      throw new Error(`${command} exited at once; see ${options.log}`);
    }
    return { pid: child.pid, startTime };
  } finally {
    fs.closeSync(fd);
  }
}

/** Field 22 of /proc/<pid>/stat, or undefined when the process is gone or a zombie. */
export function processStartTime(pid: number): string | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  if (state === 'Z' || state === 'X') return undefined;
  return fields[19];
}

/** True while the recorded process (same pid, same start time) runs. */
export function isRunning(daemon: Daemon): boolean {
  return processStartTime(daemon.pid) === daemon.startTime;
}

/**
 * Stops a daemon's process group: SIGTERM, then SIGKILL after `graceMs`.
 * Only acts when the pid still belongs to the process that was started.
 */
export async function stopDaemon(daemon: Daemon, graceMs = 10_000): Promise<void> {
  if (!isRunning(daemon)) return;
  signalGroup(daemon.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isRunning(daemon) && !groupAlive(daemon.pid)) return;
    await sleep(50);
  }
  signalGroup(daemon.pid, 'SIGKILL');
  const killDeadline = Date.now() + 5_000;
  while (Date.now() < killDeadline) {
    if (!isRunning(daemon) && !groupAlive(daemon.pid)) return;
    await sleep(50);
  }
  throw new Error(`process group ${daemon.pid} did not stop after SIGKILL`);
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** True while any live (non-zombie) process is in process group `pgid`. */
export function groupAlive(pgid: number): boolean {
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') continue;
    if (Number(fields[2]) === pgid) return true;
  }
  return false;
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Polls `check` until it returns a value other than undefined, or fails with
 * the last error after `timeoutMs`. Used only for start-up probes of processes
 * that offer nothing to watch (a port that opens, a /readyz that turns 200).
 */
export async function waitUntil<T>(
  what: string,
  check: () => Promise<T | undefined>,
  options: { timeoutMs: number; intervalMs?: number; log?: string; daemon?: Daemon },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (options.daemon && !isRunning(options.daemon)) {
      throw new Error(`${what}: the process exited${options.log ? `; see ${options.log}` : ''}`);
    }
    if (Date.now() > deadline) {
      const reason = last instanceof Error ? `: ${last.message}` : '';
      throw new Error(
        `${what}: not ready after ${options.timeoutMs} ms${reason}${options.log ? `; see ${options.log}` : ''}`,
      );
    }
    await sleep(options.intervalMs ?? 100);
  }
}
