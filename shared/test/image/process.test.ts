import { describe, expect, it } from 'vitest';
import { failureLine, LineTail, runTool } from '../../src/image/process.ts';

describe('failureLine', () => {
  it.each([
    [
      ['STEP 2/3: RUN false', 'error building at STEP "RUN false": exit status 1', ''],
      'error building at STEP "RUN false": exit status 1',
    ],
    [
      [
        'Getting image source signatures',
        'time="2026-01-01T00:00:00Z" level=fatal msg="pinging \\"x\\": refused"',
      ],
      'pinging "x": refused',
    ],
    [['first', 'last line'], 'last line'],
    [[], 'no output'],
    [
      ['ERROR: failed to solve: process "/bin/sh -c false" did not complete', 'done'],
      'ERROR: failed to solve: process "/bin/sh -c false" did not complete',
    ],
  ])('%j -> %s', (tail, line) => {
    expect(failureLine(tail)).toBe(line);
  });
});

describe('LineTail', () => {
  it('keeps the last lines in order', () => {
    const tail = new LineTail(3);
    for (const line of ['a', 'b', 'c', 'd', 'e']) tail.push(line);
    expect(tail.toArray()).toEqual(['c', 'd', 'e']);
  });
});

describe('runTool', () => {
  const node = process.execPath;

  it('streams lines from stdout and stderr, keeps the tail and the exit code', async () => {
    const seen: string[] = [];
    const script =
      'console.log("one\\ntwo"); console.error("three"); process.stdout.write("four"); process.exit(3)';
    const result = await runTool(node, ['-e', script], { onLine: (line) => seen.push(line), tailLines: 2 });
    expect(result.code).toBe(3);
    expect([...seen].sort()).toEqual(['four', 'one', 'three', 'two']);
    expect(result.tail).toHaveLength(2);
  });

  it('hands stdin over and captures stdout when asked', async () => {
    const script =
      'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>process.stdout.write(s.toUpperCase()))';
    const result = await runTool(node, ['-e', script], { stdin: 'secret', captureStdout: true });
    expect(result).toMatchObject({ code: 0, stdout: 'SECRET' });
  });

  it('rejects when the tool is not installed', async () => {
    await expect(runTool('greenlight-no-such-tool', [])).rejects.toThrow(/ENOENT/);
  });

  it('stops the tool when the signal aborts, and settles only once it has exited', async () => {
    const controller = new AbortController();
    let pid = 0;
    const running = runTool(node, ['-e', 'console.log(process.pid); setTimeout(() => {}, 60000)'], {
      signal: controller.signal,
      onLine: (line) => {
        pid = Number(line);
        controller.abort(new Error('cancelled by SIGTERM'));
      },
    });
    await expect(running).rejects.toThrow('cancelled by SIGTERM');
    expect(pid).toBeGreaterThan(0);
    expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
  });

  it('does not start a tool when the signal is already aborted', async () => {
    await expect(
      runTool(node, ['-e', ''], { signal: AbortSignal.abort(new Error('too late')) }),
    ).rejects.toThrow('too late');
  });
});
