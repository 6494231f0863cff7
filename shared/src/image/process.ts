import { spawn } from 'node:child_process';

/** How a tool run went: its exit code and the last lines it printed (stdout and stderr interleaved). */
export interface ToolResult {
  code: number;
  /** The last lines of output, oldest first, for error messages and the job summary. */
  tail: string[];
  /** Everything written to stdout, when `captureStdout` was set. */
  stdout: string;
}

export interface ToolOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  signal?: AbortSignal;
  /** Called with each output line as it arrives (progress lines during long builds). */
  onLine?: (line: string) => void;
  /** Written to the tool's standard input, then closed (credentials go here, never into argv). */
  stdin?: string;
  /** Keep stdout whole in the result (for tools whose answer is on stdout). */
  captureStdout?: boolean;
  /** How many lines the tail keeps; 80 by default. */
  tailLines?: number;
}

/** The error a cancelled run rejects with: the signal's reason when it is an error. */
function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  return new DOMException(reason === undefined ? 'The operation was aborted' : String(reason), 'AbortError');
}

/** A bounded buffer of the last lines seen. */
export class LineTail {
  private readonly lines: string[] = [];
  private readonly max: number;

  constructor(max = 80) {
    this.max = max;
  }

  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.max) this.lines.shift();
  }

  toArray(): string[] {
    return [...this.lines];
  }
}

/** Splits a stream into lines, handing each complete line to `onLine`; `flush` hands over the rest. */
function lineSplitter(onLine: (line: string) => void): { write(chunk: string): void; flush(): void } {
  let pending = '';
  return {
    write(chunk) {
      pending += chunk;
      const parts = pending.split(/\r?\n|\r/);
      pending = parts.pop() ?? '';
      for (const part of parts) onLine(part);
    },
    flush() {
      if (pending !== '') onLine(pending);
      pending = '';
    },
  };
}

/**
 * Runs a real tool (`buildah`, `skopeo`, `docker`) with an argument array, never through a shell. Resolves with
 * the exit code and the output tail; rejects only when the tool cannot be started (not installed) or is aborted.
 */
export function runTool(
  command: string,
  args: readonly string[],
  options: ToolOptions = {},
): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const tail = new LineTail(options.tailLines ?? 80);
    let stdout = '';
    if (options.signal?.aborted) {
      reject(abortError(options.signal));
      return;
    }
    const child = spawn(command, [...args], {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    // On cancellation the tool gets SIGTERM (buildah and skopeo clean up and stop their children), SIGKILL if it
    // is still there 10 s later; the promise settles only once it has exited, so nothing runs on behind us.
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const onLine = (line: string) => {
      tail.push(line);
      options.onLine?.(line);
    };
    const out = lineSplitter(onLine);
    const err = lineSplitter(onLine);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      if (options.captureStdout) stdout += chunk;
      out.write(chunk);
    });
    child.stderr.on('data', (chunk: string) => err.write(chunk));
    child.stdin.on('error', () => {
      // The tool may exit before reading its input; its exit code tells what happened.
    });
    child.stdin.end(options.stdin ?? '');
    child.once('error', (error) => {
      options.signal?.removeEventListener('abort', onAbort);
      reject(error);
    });
    child.once('close', (code, signal) => {
      options.signal?.removeEventListener('abort', onAbort);
      clearTimeout(killTimer);
      out.flush();
      err.flush();
      if (options.signal?.aborted) reject(abortError(options.signal));
      else resolve({ code: code ?? (signal ? 128 : 1), tail: tail.toArray(), stdout });
    });
  });
}

/** The line of a tool's output that best says why it failed: the last line mentioning an error. */
export function failureLine(tail: readonly string[]): string {
  const meaningful = tail.map((line) => line.trim()).filter((line) => line !== '');
  for (let i = meaningful.length - 1; i >= 0; i--) {
    const line = meaningful[i] as string;
    if (/\berror\b|\bfailed\b|\bfatal\b/i.test(line)) return cleanLogLine(line);
  }
  return cleanLogLine(meaningful.at(-1) ?? 'no output');
}

/** Strips logrus decoration (`time="..." level=fatal msg="..."`) from a line, keeping the message. */
function cleanLogLine(line: string): string {
  const match = /level=(?:fatal|error)\s+msg="((?:[^"\\]|\\.)*)"/.exec(line);
  if (match) return (match[1] as string).replace(/\\"/g, '"');
  return line;
}
