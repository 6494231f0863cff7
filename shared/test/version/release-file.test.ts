import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GreenlightError } from '../../src/runtime/errors.ts';
import { parseReleaseFile } from '../../src/version/release-file.ts';
import { cleanVersion, highestRelease, semverProblem } from '../../src/version/semver.ts';
import { packageJsonVersion, readVersionFile } from '../../src/version/sources.ts';
import { Random } from './random.ts';

describe('parseReleaseFile', () => {
  it.each<[string, string, number, string, string | undefined]>([
    ['1.2.3\n', '1.2.3', 1, '', undefined],
    ['v1.2.3', '1.2.3', 1, '', undefined],
    ['\n\n  2.0.0-rc.1  \n', '2.0.0-rc.1', 3, '', undefined],
    ['1.2.3\n\nFixed the cart.\nFaster search.\n', '1.2.3', 1, 'Fixed the cart.\nFaster search.', undefined],
    ['version: 1.4.0\n', '1.4.0', 1, '', undefined],
    ['VERSION=1.4.0', '1.4.0', 1, '', undefined],
    ['version = "v1.4.0"', '1.4.0', 1, '', undefined],
    ['app_version: 1.4.0', '1.4.0', 1, '', undefined],
    ['# 1.5.0\n- notes', '1.5.0', 1, '- notes', undefined],
    ['## [v1.5.0] - 2026-01-31\n- a\n\n## 1.4.0\n- old', '1.5.0', 1, '- a', '2026-01-31'],
    ['# Release notes for the shop\n\n# Release 1.6.0\nText', '1.6.0', 3, 'Text', undefined],
    ['Version 1.7.0 (2026-02-01)\nText', '1.7.0', 1, 'Text', '2026-02-01'],
    ['// generated\n; ini comment\n1.8.0+build.5', '1.8.0', 3, '', undefined],
    ['\uFEFF1.9.0\r\nwindows notes\r\n', '1.9.0', 1, 'windows notes', undefined],
  ])('%j', (text, version, line, notes, date) => {
    const parsed = parseReleaseFile(text);
    expect(parsed.version).toBe(version);
    expect(parsed.line).toBe(line);
    expect(parsed.notes).toBe(notes);
    expect(parsed.date).toBe(date);
  });

  it.each([
    ['', 1, 'no version found'],
    ['# only a comment\n\n', 3, 'no version found'],
    ['1.2\n', 1, '"1.2" has 2 numbers before any pre-release, a version has three'],
    ['\n\nv1.02.3', 3, 'the minor part "02" of "v1.02.3" has a leading zero'],
    ['1.2.3.4', 1, '"1.2.3.4" has 4 numbers'],
    ['version: one', 1, '"one" has 1 number'],
    ['1.2.3-rc..1', 1, 'the pre-release identifier "" of "1.2.3-rc..1" is empty'],
    ['1.2.3-01', 1, 'the numeric pre-release identifier "01"'],
    ['1.2.3+bad_build', 1, 'the build identifier "bad_build"'],
    [
      'Shop release, spring edition',
      1,
      'expected the version (1.2.3, v1.2.3, version: 1.2.3 or # 1.2.3), found "Shop release',
    ],
    ['1.2.3\nnotes\nversion: 1.2.4', 3, 'a second version line; the version is already given on line 1'],
  ])('rejects %j at line %i', (text, line, message) => {
    const parse = () => parseReleaseFile(text, 'app/RELEASE.txt');
    expect(parse).toThrow(GreenlightError);
    expect(parse).toThrow(`read app/RELEASE.txt failed: line ${line}: ${message}`);
    try {
      parse();
    } catch (error) {
      expect((error as GreenlightError).line).toBe(line);
      expect((error as GreenlightError).file).toBe('app/RELEASE.txt');
    }
  });

  it('property: a generated version in any form reads back, notes intact', () => {
    const random = new Random(4242);
    const forms = [
      (v: string) => v,
      (v: string) => `v${v}`,
      (v: string) => `version: ${v}`,
      (v: string) => `VERSION=${v}`,
      (v: string) => `# ${v}`,
      (v: string) => `## [${v}] - 2026-05-06`,
      (v: string) => `Release ${v}`,
    ];
    for (let i = 0; i < 500; i++) {
      const core = [random.int(0, 30), random.int(0, 30), random.int(0, 300)].join('.');
      const version = random.bool()
        ? core
        : `${core}-${random.pick(['rc', 'beta', 'alpha'])}.${random.int(0, 9)}`;
      const notes = random.bool() ? `- ${random.string('abc xyz', random.int(1, 30)).trim() || 'x'}` : '';
      const blank = '\n'.repeat(random.int(0, 3));
      const parsed = parseReleaseFile(`${blank}${random.pick(forms)(version)}\n${notes}\n`);
      expect(parsed.version).toBe(version);
      expect(parsed.line).toBe(blank.length + 1);
      expect(parsed.notes).toBe(notes);
    }
  });
});

describe('semver helpers', () => {
  it.each([
    ['1.2.3', '1.2.3'],
    ['v1.2.3', '1.2.3'],
    ['V1.2.3-rc.1', '1.2.3-rc.1'],
    ['vv1.2.3', undefined],
    ['=1.2.3', undefined],
    ['1.2', undefined],
  ])('cleanVersion(%j) = %j', (text, clean) => {
    expect(cleanVersion(text)).toBe(clean);
  });

  it('explains the empty string and a non-number', () => {
    expect(semverProblem('')).toBe('it is empty');
    expect(semverProblem('1.x.3')).toBe('the minor part "x" of "1.x.3" is not a number');
  });

  it('finds the highest final release', () => {
    expect(highestRelease(['1.0.0', '2.0.0-rc.1', '1.10.0', '1.9.0'])).toBe('1.10.0');
    expect(highestRelease(['2.0.0-rc.1'])).toBeUndefined();
  });
});

describe('readVersionFile', () => {
  const root = mkdtempSync(join(tmpdir(), 'greenlight-sources-'));
  const dir = (name: string, files: Record<string, string>): string => {
    const path = join(root, name);
    mkdirSync(path, { recursive: true });
    for (const [file, text] of Object.entries(files)) writeFileSync(join(path, file), text);
    return path;
  };
  const chart = (extra: string) => `apiVersion: v2\nname: shop\nversion: 0.3.0\n${extra}`;

  it.each<[string, Record<string, string>, { source: string; version: string } | undefined]>([
    [
      'RELEASE.txt first',
      { 'RELEASE.txt': 'v1.2.3\n', 'package.json': '{"version":"9.9.9"}' },
      { source: 'RELEASE.txt', version: '1.2.3' },
    ],
    [
      'package.json next',
      { 'package.json': '{"name":"x","version":"2.0.1"}', 'Chart.yaml': chart('') },
      { source: 'package.json', version: '2.0.1' },
    ],
    [
      'package.json without a version falls through',
      { 'package.json': '{"name":"x"}', 'Chart.yaml': chart('appVersion: "3.1.0"\n') },
      { source: 'Chart.yaml appVersion', version: '3.1.0' },
    ],
    [
      'Chart.yaml version without appVersion',
      { 'Chart.yaml': chart('') },
      { source: 'Chart.yaml version', version: '0.3.0' },
    ],
    ['nothing', {}, undefined],
  ])('%s', async (name, files, expected) => {
    expect(await readVersionFile(dir(name, files))).toEqual(expected);
  });

  it.each<[string, Record<string, string>, string]>([
    ['bad RELEASE.txt', { 'RELEASE.txt': '\n1.2\n' }, 'line 2: "1.2" has 2 numbers'],
    ['bad package.json', { 'package.json': '{"version": 1' }, 'it is not valid JSON'],
    [
      'bad package version',
      { 'package.json': '{\n  "name": "x",\n  "version": "1.2"\n}' },
      'line 3: "version" "1.2" has 2 numbers',
    ],
    ['non-string package version', { 'package.json': '{"version": 1}' }, '"version" must be a string'],
    ['bad appVersion', { 'Chart.yaml': chart('appVersion: latest\n') }, 'appVersion: "latest" has 1 number'],
  ])('%s', async (name, files, message) => {
    await expect(readVersionFile(dir(name, files))).rejects.toThrow(message);
  });

  it('fails plainly when a version file cannot be read', async () => {
    const path = dir('unreadable', {});
    mkdirSync(join(path, 'RELEASE.txt'));
    await expect(readVersionFile(path)).rejects.toThrow('cannot read it: EISDIR');
  });

  it('packageJsonVersion reads nothing from a package without version', () => {
    expect(packageJsonVersion('{}')).toBeUndefined();
    expect(packageJsonVersion('null')).toBeUndefined();
  });
});
