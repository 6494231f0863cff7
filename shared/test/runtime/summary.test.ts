import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../src/runtime/duration.ts';
import { GreenlightError } from '../../src/runtime/errors.ts';
import { CliHost, Progress, redact } from '../../src/runtime/host.ts';
import { PhaseClock, SummaryBuilder } from '../../src/runtime/summary.ts';

describe('durations', () => {
  it.each([
    ['90s', 90_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
    ['2m30s', 150_000],
    ['0s', 0],
  ])('parses %s', (text, ms) => expect(parseDuration(text)).toBe(ms));
  it.each(['', 'abc', '5 m', '5d', 's', '-1s', '1m-1s'])('rejects %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
  it.each([
    [850, '850ms'],
    [14_000, '14s'],
    [125_000, '2m05s'],
    [3_720_000, '1h02m'],
  ])('formats %d ms as %s', (ms, text) => expect(formatDuration(ms)).toBe(text));
});

describe('SummaryBuilder', () => {
  it('renders tables with escaped cells, collapsible details and code', () => {
    const md = new SummaryBuilder()
      .heading('Result')
      .table(['tag', 'note'], [['1.2.3', 'a|b\nc']])
      .details('build log', '```\nstep 1\n```')
      .toString();
    expect(md).toBe(
      '## Result\n\n| tag | note |\n| --- | --- |\n| 1.2.3 | a\\|b<br>c |\n\n<details><summary>build log</summary>\n\n```\nstep 1\n```\n\n</details>\n',
    );
  });

  it('draws phases as a mermaid gantt chart with failed phases marked critical', () => {
    const md = new SummaryBuilder()
      .timeline('deploy', [
        { name: 'render', startedAt: 1000, durationMs: 500, outcome: 'ok' },
        { name: 'wait: rollout', startedAt: 1500, durationMs: 12_000, outcome: 'failed' },
      ])
      .toString();
    expect(md).toContain('```mermaid\ngantt\n  title deploy\n  dateFormat x');
    expect(md).toContain('  render (500ms) : 0, 500');
    expect(md).toContain('  wait  rollout (12s) : crit, 500, 12500');
  });
});

describe('PhaseClock', () => {
  it('records ok and failed phases with durations', async () => {
    let t = 0;
    const clock = new PhaseClock(() => t);
    await clock.run('a', async () => {
      t += 10;
    });
    await expect(
      clock.run('b', async () => {
        t += 5;
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    clock.skip('c');
    expect(clock.phases).toEqual([
      { name: 'a', startedAt: 0, durationMs: 10, outcome: 'ok' },
      { name: 'b', startedAt: 10, durationMs: 5, outcome: 'failed' },
      { name: 'c', startedAt: 15, durationMs: 0, outcome: 'skipped' },
    ]);
  });
});

describe('CliHost', () => {
  it('redacts registered secrets from every line and from the summary', () => {
    const lines: string[] = [];
    const host = new CliHost({ write: (line) => lines.push(line) });
    host.secret('hunter22');
    host.info('logging in with hunter22');
    host.annotate('error', 'bad password hunter22', { file: 'a.yaml', line: 3, title: 'login' });
    expect(lines).toEqual(['logging in with ***', 'a.yaml:3: error: login: bad password ***']);
    expect(redact('x hunter22 y', new Set(['hunter22']))).toBe('x *** y');
  });

  it('indents lines inside groups', async () => {
    const lines: string[] = [];
    const host = new CliHost({ write: (line) => lines.push(line) });
    await host.group('wait', async () => host.info('inside'));
    expect(lines).toEqual(['▸ wait', '  inside']);
  });
});

describe('Progress', () => {
  it('logs on change and otherwise at most every interval, with elapsed seconds', () => {
    const lines: string[] = [];
    let t = 0;
    const progress = new Progress(new CliHost({ write: (l) => lines.push(l) }), 10_000, () => t);
    progress.update('green 0/3 ready');
    t = 2000;
    progress.update('green 0/3 ready');
    t = 4000;
    progress.update('green 1/3 ready');
    t = 15_000;
    progress.update('green 1/3 ready');
    expect(lines).toEqual(['green 0/3 ready, 0 s', 'green 1/3 ready, 4 s', 'green 1/3 ready, 15 s']);
  });
});

describe('GreenlightError', () => {
  it('says what failed, on which object, why and what to do', () => {
    const error = new GreenlightError({
      what: 'wait for rollout',
      object: { kind: 'Deployment', namespace: 'shop', name: 'api-green' },
      reason: 'container api is waiting: ImagePullBackOff',
      hint: 'check the image reference and the pull secret',
    });
    expect(error.message).toBe(
      'wait for rollout failed on Deployment shop/api-green: container api is waiting: ImagePullBackOff. Hint: check the image reference and the pull secret',
    );
  });
});
