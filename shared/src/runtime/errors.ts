/** A reference to the object a failure concerns, in the words a user would type into kubectl or a registry. */
export interface ObjectRef {
  kind: string;
  name: string;
  namespace?: string;
}

export interface GreenlightErrorFields {
  /** What failed, as a short phrase: "wait for rollout", "input `timeout`". */
  what: string;
  /** Why it failed: the reason as observed (container waiting reason, HTTP status, parser message). */
  reason: string;
  /** What the user can do about it. */
  hint?: string;
  /** The Kubernetes object (or registry object) the failure concerns. */
  object?: ObjectRef;
  /** A file and line the failure points to (a chart template, an input file). */
  file?: string;
  line?: number;
  /** The underlying error, kept for debugging. */
  cause?: unknown;
}

/** Formats an object reference as `Kind namespace/name` (or `Kind name` when cluster-scoped). */
export function formatRef(ref: ObjectRef): string {
  return ref.namespace ? `${ref.kind} ${ref.namespace}/${ref.name}` : `${ref.kind} ${ref.name}`;
}

/**
 * The one error type of the product: what failed, on which object, why, and what to do. The edge turns it into a
 * failed step, an annotation and a summary section.
 */
export class GreenlightError extends Error {
  readonly what: string;
  readonly reason: string;
  readonly hint: string | undefined;
  readonly object: ObjectRef | undefined;
  readonly file: string | undefined;
  readonly line: number | undefined;

  constructor(fields: GreenlightErrorFields) {
    const parts = [`${fields.what} failed`];
    if (fields.object) parts[0] += ` on ${formatRef(fields.object)}`;
    parts[0] += `: ${fields.reason}`;
    if (fields.hint) parts.push(`Hint: ${fields.hint}`);
    super(parts.join('. '), fields.cause === undefined ? undefined : { cause: fields.cause });
    this.name = 'GreenlightError';
    this.what = fields.what;
    this.reason = fields.reason;
    this.hint = fields.hint;
    this.object = fields.object;
    this.file = fields.file;
    this.line = fields.line;
  }
}

/** An error about one or more user inputs; carries every problem found so the user fixes them in one go. */
export class InputError extends GreenlightError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super({
      what: problems.length === 1 ? 'input validation' : `input validation (${problems.length} problems)`,
      reason: problems.join('; '),
      hint: 'see the action page under docs/ for each input and its form',
    });
    this.name = 'InputError';
    this.problems = problems;
  }
}

/** Turns anything thrown into a message fit for a log line, without stack noise. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
