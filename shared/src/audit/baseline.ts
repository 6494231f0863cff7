import { readFileSync } from 'node:fs';
import { GreenlightError } from '../runtime/errors.ts';

/**
 * Reads a baseline: a JSON report written by a previous audit (`format: json`), whose findings are accepted, or
 * a plain `{ "fingerprints": [...] }`. Returns the accepted fingerprints.
 */
export function parseBaseline(text: string, file: string): Set<string> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new GreenlightError({
      what: `read baseline ${file}`,
      reason: `not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
      hint: 'write a baseline with `format: json` and commit the JSON report it produces',
      file,
    });
  }
  const record = (data ?? {}) as { findings?: unknown; fingerprints?: unknown };
  const out = new Set<string>();
  if (Array.isArray(record.fingerprints)) {
    for (const value of record.fingerprints) if (typeof value === 'string') out.add(value);
  }
  if (Array.isArray(record.findings)) {
    for (const finding of record.findings) {
      const value = (finding as { fingerprint?: unknown } | null)?.fingerprint;
      if (typeof value === 'string') out.add(value);
    }
  }
  if (!Array.isArray(record.fingerprints) && !Array.isArray(record.findings)) {
    throw new GreenlightError({
      what: `read baseline ${file}`,
      reason: 'it has neither `findings` (a JSON audit report) nor `fingerprints`',
      hint: 'use the JSON report of an earlier audit as the baseline',
      file,
    });
  }
  return out;
}

/** Reads a baseline file; see parseBaseline. */
export function loadBaseline(path: string, displayName: string): Set<string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new GreenlightError({
      what: `read baseline ${displayName}`,
      reason: (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String(error),
      hint: 'the `baseline` input is a path relative to the repository root',
      cause: error,
    });
  }
  return parseBaseline(text, displayName);
}
