import { GreenlightError } from '../runtime/errors.ts';

/** Fails a command whose core has not landed yet, saying so plainly instead of pretending to work. */
export function notYetAvailable(command: string, issue: string): never {
  throw new GreenlightError({
    what: command,
    reason: `the ${command} core is not part of this build yet (tracked as "${issue}")`,
    hint: 'use a released version of Greenlight, or follow the project issues for progress',
  });
}
