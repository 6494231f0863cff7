import { isTransient } from './errors.ts';

/** How a safe request is retried. */
export interface RetryOptions {
  /** Attempts in all, the first included (default 5). */
  attempts?: number;
  /** First backoff (default 200 ms); doubles each time with jitter, up to `maxDelayMs`. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  signal?: AbortSignal;
  /** Which failures are retried (default: throttling, 5xx, dropped connections). */
  retryable?: (error: unknown) => boolean;
  /** Told about each retry, for a debug line. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

/**
 * Runs a safe (idempotent) request, retrying transient failures with exponential backoff and jitter. Use it for
 * reads, server-side apply and writes guarded by a resourceVersion, never for a blind create-or-increment.
 */
export async function withRetry<T>(fn: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 5;
  const retryable = options.retryable ?? isTransient;
  let delay = options.baseDelayMs ?? 200;
  for (let attempt = 1; ; attempt++) {
    options.signal?.throwIfAborted();
    try {
      return await fn();
    } catch (error) {
      if (attempt >= attempts || !retryable(error) || options.signal?.aborted) throw error;
      const wait = Math.min(delay, options.maxDelayMs ?? 5_000) * (0.5 + Math.random() / 2);
      options.onRetry?.(error, attempt, wait);
      await sleep(wait, options.signal);
      delay *= 2;
    }
  }
}

/** Waits `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
