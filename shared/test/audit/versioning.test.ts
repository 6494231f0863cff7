import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type ChartInfo, planCharts, readChartInfo } from '../../src/audit/charts.ts';
import type { ReleaseMap } from '../../src/version/release-map.ts';
import { check } from './fixtures.ts';

const CHART = (version: string, appVersion?: string) =>
  `apiVersion: v2\nname: shop\nversion: ${version}\n${appVersion ? `appVersion: "${appVersion}"\n` : ''}`;

function chartDir(text: string, files: Record<string, string> = {}): { root: string; dir: string } {
  const root = mkdtempSync(join(tmpdir(), 'gl-ver-'));
  const dir = join(root, 'deploy', 'shop');
  mkdirSync(join(dir, 'templates'), { recursive: true });
  writeFileSync(join(dir, 'Chart.yaml'), text);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return { root, dir };
}

const info = (text: string): ChartInfo => {
  const { root, dir } = chartDir(text);
  return readChartInfo(dir, root);
};

const map = (chartVersion: string, appVersion: string): ReleaseMap => ({
  schemaVersion: 1,
  releases: [
    {
      app: { name: 'shop', version: appVersion },
      chart: { name: 'shop', version: chartVersion },
      image: { repository: 'registry.example.com/shop', digest: `sha256:${'b'.repeat(64)}` },
      git: { sha: 'c'.repeat(40) },
    },
  ],
});

describe('GL-VER-001', () => {
  it('fires at the line of a version that is not SemVer', () => {
    const findings = check('GL-VER-001', [], {
      charts: [info('apiVersion: v2\nname: shop\nversion: 1.2\n')],
    });
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      file: 'deploy/shop/Chart.yaml',
      line: 3,
      object: { kind: 'Chart', name: 'shop' },
    });
  });
  it('stays quiet for a valid Chart.yaml', () => {
    expect(check('GL-VER-001', [], { charts: [info(CHART('1.2.0', '2.0.0'))] })).toEqual([]);
  });
});

describe('GL-VER-002', () => {
  it('fires when a released chart version now carries another app version', () => {
    const findings = check('GL-VER-002', [], {
      charts: [info(CHART('1.1.0', '1.3.0'))],
      releaseMap: map('1.1.0', '1.2.0'),
    });
    expect(findings).toHaveLength(1);
    expect(findings[0]?.line).toBe(4);
    expect(findings[0]?.message).toContain('released with app shop 1.2.0');
  });
  it('fires when there is no appVersion to check', () => {
    expect(
      check('GL-VER-002', [], { charts: [info(CHART('1.1.0'))], releaseMap: map('1.1.0', '1.2.0') }),
    ).toHaveLength(1);
  });
  it.each([
    ['the same pair', CHART('1.1.0', '1.2.0')],
    ['a new chart version', CHART('1.2.0', '1.3.0')],
    ['a v-prefixed appVersion', CHART('1.1.0', 'v1.2.0')],
  ])('stays quiet for %s', (_name, text) => {
    expect(check('GL-VER-002', [], { charts: [info(text)], releaseMap: map('1.1.0', '1.2.0') })).toEqual([]);
  });
  it('stays quiet without a release map', () => {
    expect(check('GL-VER-002', [], { charts: [info(CHART('1.1.0', '1.3.0'))] })).toEqual([]);
  });
});

describe('GL-VER-003 against a real git base', () => {
  function repo() {
    const { root, dir } = chartDir(CHART('1.0.0', '1.0.0'), { 'values.yaml': 'replicas: 2\n' });
    writeFileSync(
      join(dir, 'templates', 'svc.yaml'),
      'apiVersion: v1\nkind: Service\nmetadata:\n  name: x\n',
    );
    const git = (...args: string[]) =>
      execFileSync('git', ['-C', root, '-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], {
        stdio: 'pipe',
      });
    git('init', '-q', '-b', 'main');
    git('add', '.');
    git('commit', '-q', '-m', 'chart 1.0.0');
    return { root, dir };
  }

  it('fires when values changed and the version did not move, with the plan in the message', async () => {
    const { root, dir } = repo();
    writeFileSync(join(dir, 'values.yaml'), 'replicas: 3\n');
    const charts = [readChartInfo(dir, root)];
    await planCharts(charts, [dir], root, 'main');
    const findings = check('GL-VER-003', [], { charts });
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ file: 'deploy/shop/Chart.yaml', line: 3 });
    expect(findings[0]?.message).toContain('needs a patch bump to 1.0.1');
  });

  it('stays quiet when the version was bumped, or nothing changed', async () => {
    const bumped = repo();
    writeFileSync(join(bumped.dir, 'values.yaml'), 'replicas: 3\n');
    writeFileSync(join(bumped.dir, 'Chart.yaml'), CHART('1.0.1', '1.0.0'));
    const untouched = repo();
    for (const { root, dir } of [bumped, untouched]) {
      const charts = [readChartInfo(dir, root)];
      await planCharts(charts, [dir], root, 'main');
      expect(check('GL-VER-003', [], { charts })).toEqual([]);
    }
  });
});
