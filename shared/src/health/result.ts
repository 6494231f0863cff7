/** The outcome of one gate, as shown in the summary and kept in the release record. */
export interface GateResult {
  kind: 'endpoints' | 'http' | 'prometheus';
  name: string;
  /** passed, failed, or skipped (an earlier gate failed, or the total timeout ran out). */
  outcome: 'passed' | 'failed' | 'skipped';
  passed: boolean;
  /** One line: what was seen (`3/3 successes, 12 ms slowest`, `value 0.002 <= 0.01 for 3 evaluations`). */
  detail: string;
  durationMs: number;
  /** How many checks were made. */
  attempts: number;
  /** The last few observations, newest last, for the summary and error messages. */
  observations: string[];
}

/** Keeps the last `limit` observations. */
export class Observations {
  readonly items: string[] = [];
  private readonly limit: number;

  constructor(limit = 5) {
    this.limit = limit;
  }

  add(text: string): void {
    this.items.push(text);
    if (this.items.length > this.limit) this.items.shift();
  }

  last(): string | undefined {
    return this.items[this.items.length - 1];
  }
}
