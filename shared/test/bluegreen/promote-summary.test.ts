import { describe, expect, it } from 'vitest';
import type { ReleaseOutcome } from '../../src/bluegreen/promote.ts';
import { summarise } from '../../src/commands/promote.ts';
import { SummaryBuilder } from '../../src/runtime/summary.ts';

const facts = { app: 'api', environment: 'production', namespace: 'shop' };
const phases = [
  { name: 'take the lock', startedAt: 1000, durationMs: 20, outcome: 'ok' as const },
  { name: 'switch traffic to green', startedAt: 1020, durationMs: 900, outcome: 'ok' as const },
  { name: 'verification window', startedAt: 1920, durationMs: 4000, outcome: 'ok' as const },
];

describe('promote job summary', () => {
  it('shows the facts, the verification per gate and the timeline of a rolled-back promote', () => {
    const outcome: ReleaseOutcome = {
      action: 'promote',
      activeColor: 'blue',
      previousColor: 'green',
      revision: 1,
      image: 'registry:5000/shop/api@sha256:abc',
      rolledBack: true,
      message:
        'verification failed: gate "error rate" read 0.4, above max 0.05; traffic switched back to blue',
      verification: {
        passed: false,
        rounds: 3,
        durationMs: 4000,
        failure: 'gate "error rate" read 0.4, above max 0.05',
        gates: [
          {
            name: 'error rate',
            kind: 'prometheus',
            checks: 3,
            failures: 1,
            last: 'read 0.4, above max 0.05',
          },
        ],
      },
    };
    const summary = new SummaryBuilder();
    summarise(summary, outcome, facts, phases);
    const text = summary.toString();
    expect(text).toContain('## ↩️ promote api in production');
    expect(text).toContain('| active colour | blue |');
    expect(text).toContain('| rolled back | true |');
    expect(text).toContain('### Verification: failed (3 rounds over 4s)');
    expect(text).toContain('| error rate | prometheus | 3 | 1 | read 0.4, above max 0.05 |');
    expect(text).toContain('```mermaid');
    expect(text).toContain('switch traffic to green (900ms)');
  });

  it('says when nothing was live', () => {
    const summary = new SummaryBuilder();
    summarise(
      summary,
      {
        action: 'abort',
        activeColor: undefined,
        previousColor: undefined,
        revision: 0,
        image: '',
        rolledBack: false,
        message: 'api has no candidate in production: nothing to abort',
      },
      facts,
      [],
    );
    expect(summary.toString()).toContain('| active colour | (none) |');
    expect(summary.toString()).not.toContain('mermaid');
  });
});
