// Fuzz tests over the strings users write (tag rules, flavor, RELEASE.txt, Chart.yaml, release map JSON): any
// input either works or fails with a GreenlightError that says what is wrong; nothing else escapes.
import { describe, expect, it } from 'vitest';
import { GreenlightError } from '../../src/runtime/errors.ts';
import { parseChartYaml, updateChartYaml } from '../../src/version/chart-file.ts';
import type { GitContext } from '../../src/version/context.ts';
import { computeMetadata } from '../../src/version/metadata.ts';
import { parseReleaseFile } from '../../src/version/release-file.ts';
import { parseReleaseMap } from '../../src/version/release-map.ts';
import { Random } from './random.ts';

const contexts: GitContext[] = [
  { eventName: 'push', ref: 'refs/heads/main', sha: 'a'.repeat(40), defaultBranch: 'main' },
  { eventName: 'push', ref: 'refs/tags/v1.2.3', sha: 'b'.repeat(40) },
  { eventName: 'push', ref: 'refs/tags/api/v2.0.0-rc.1', sha: 'c'.repeat(40) },
  {
    eventName: 'pull_request',
    ref: 'refs/pull/5/merge',
    sha: 'd'.repeat(40),
    headSha: 'e'.repeat(40),
    prNumber: 5,
  },
  { eventName: 'schedule', ref: 'refs/heads/main', sha: 'f'.repeat(40) },
];

/** Errors must be ours, and must carry a reason. */
function expectOnlyGreenlightErrors(run: () => void, input: string): void {
  try {
    run();
  } catch (error) {
    expect(error, input).toBeInstanceOf(GreenlightError);
    expect((error as GreenlightError).reason.length, input).toBeGreaterThan(0);
  }
}

describe('fuzz', () => {
  it('tag rules and flavor: valid tags or a GreenlightError', () => {
    const random = new Random(1);
    const pieces = [
      'type=semver',
      'type=ref',
      'type=sha',
      'type=raw',
      'type=match',
      'type=edge',
      'type=schedule',
      'type=channel',
      'type=bogus',
      'pattern={{version}}',
      'pattern={{major}}.{{minor}}',
      'pattern={{raw}}',
      'pattern=v(\\d+)',
      'pattern=(',
      'group=1',
      'group=x',
      'event=branch',
      'event=tag',
      'event=pr',
      'event=x',
      'value=a/b c',
      'value={{branch}}',
      'value={{nope}}',
      "value={{date 'YYYY'}}",
      'enable=false',
      'enable={{is_default_branch}}',
      'enable=1',
      'priority=5',
      'priority=x',
      'prefix=-',
      'suffix=.',
      'format=long',
      'format=x',
      '"value=a,b"',
      '"',
      '=',
      ',,',
      'latest',
      '{{',
      '}}',
    ];
    let computed = 0;
    const flavors = [
      'latest=auto',
      'latest=false',
      'latest=maybe',
      'prefix=v',
      'suffix=-x,onlatest=true',
      'bogus=1',
      'x',
    ];
    for (let i = 0; i < 3000; i++) {
      const rules = Array.from({ length: random.int(0, 4) }, () =>
        Array.from({ length: random.int(1, 4) }, () => random.pick(pieces)).join(','),
      );
      const flavor = random.int(0, 2) === 0 ? [random.pick(flavors)] : [];
      const input = JSON.stringify({ rules, flavor });
      expectOnlyGreenlightErrors(() => {
        const metadata = computeMetadata({
          images: ['ghcr.io/acme/app'],
          tagRules: rules,
          flavor,
          context: random.pick(contexts),
          existingTags: ['1.0.0', '3.0.0'],
          now: new Date(0),
        });
        for (const tag of metadata.tagNames) expect(tag, input).toMatch(/^[\w][\w.-]{0,127}$/);
        expect(new Set(metadata.tagNames).size, input).toBe(metadata.tagNames.length);
        computed++;
      }, input);
    }
    expect(computed).toBeGreaterThan(300);
  });

  it('RELEASE.txt: a version with its line, or a GreenlightError with a line', () => {
    const random = new Random(2);
    const lines = [
      '',
      '# notes',
      '1.2.3',
      'v1.2',
      'version: 2.0.0',
      'VERSION=x',
      '## [1.0.0] - 2026-01-01',
      'text',
      '//',
      '1.2.3.4',
      '\t',
      'Release 01.2.3',
    ];
    let read = 0;
    for (let i = 0; i < 2000; i++) {
      const text = Array.from({ length: random.int(0, 6) }, () => random.pick(lines)).join(
        random.bool() ? '\n' : '\r\n',
      );
      try {
        const parsed = parseReleaseFile(text);
        expect(parsed.line, text).toBeGreaterThan(0);
        read++;
      } catch (error) {
        expect(error, text).toBeInstanceOf(GreenlightError);
        expect((error as GreenlightError).line, text).toBeGreaterThan(0);
      }
    }
    expect(read).toBeGreaterThan(200);
  });

  it('Chart.yaml: parses and round-trips, or a GreenlightError', () => {
    const random = new Random(3);
    const required = ['apiVersion: v2', 'name: shop', 'version: 1.0.0'];
    const extras = [
      'appVersion: 1.10',
      '# comment',
      'description: "a, b" # note',
      'dependencies:\n  - name: redis\n    version: ^18',
      'dependencies:\n  - x',
      'kubeVersion: ">=1.29"',
      'type: library',
      'version: 1.0',
      'name:',
      ': :',
      '[',
      'a: "b',
    ];
    let parsed = 0;
    for (let i = 0; i < 800; i++) {
      const lines = [...required].sort(() => random.next() - 0.5);
      // Mostly well-formed files with extras; sometimes one required field goes missing or a broken line comes in.
      if (random.int(0, 4) === 0) lines.splice(random.int(0, lines.length - 1), 1);
      for (let n = random.int(0, 3); n > 0; n--)
        lines.splice(random.int(0, lines.length), 0, random.pick(extras));
      const text = `${lines.join('\n')}\n`;
      expectOnlyGreenlightErrors(() => {
        const chart = parseChartYaml(text);
        const updated = updateChartYaml(text, { version: '9.9.9', appVersion: '8.8.8' });
        const again = parseChartYaml(updated);
        expect(again.version, text).toBe('9.9.9');
        expect(again.appVersion, text).toBe('8.8.8');
        expect(again.name, text).toBe(chart.name);
        parsed++;
      }, text);
    }
    // The generator must exercise the success path too, not only errors.
    expect(parsed).toBeGreaterThan(100);
  });

  it('release map JSON: a map or a GreenlightError naming the path', () => {
    const random = new Random(4);
    let valid = 0;
    const wrong = ['"1.0"', '1', 'null', '{}', '[]', '""', '"x y"'];
    // Each field is valid half of the time, so whole valid maps come up as well as every kind of error.
    const field = (good: string[]) => (random.bool() ? random.pick(good) : random.pick(wrong));
    const versions = ['"1.0.0"', '"v2.0.0"', '"3.0.0-rc.1"'];
    for (let i = 0; i < 1500; i++) {
      const json = `{"schemaVersion":1,"releases":[{"app":{"name":"a","version":${field(versions)}},"chart":{"name":"c","version":${field(versions)}},"image":{"repository":${field(['"ghcr.io/a/b"', '"nginx"'])},"digest":${field([`"sha256:${'a'.repeat(64)}"`])}},"git":{"sha":${field([`"${'b'.repeat(40)}"`])}}}]}`;
      expectOnlyGreenlightErrors(() => {
        parseReleaseMap(json);
        valid++;
      }, json);
    }
    expect(valid).toBeGreaterThan(0);
  });
});
