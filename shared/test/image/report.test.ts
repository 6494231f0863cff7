import { describe, expect, it } from 'vitest';
import { type ImageReport, tagStatus, writeFailureReport, writeReport } from '../../src/image/report.ts';
import type { TagPlan } from '../../src/image/tag-plan.ts';
import { SummaryBuilder } from '../../src/runtime/summary.ts';

const OLD = `sha256:${'1'.repeat(64)}`;
const NEW = `sha256:${'2'.repeat(64)}`;
const plan: TagPlan = {
  write: ['1.2.3', '1.2', 'latest'],
  unchanged: ['1.2'],
  conflicts: [{ tag: '1.2.3', existing: OLD, incoming: NEW }],
};

describe('tagStatus', () => {
  it.each([
    ['1.2.3', true, `moved from ${OLD} (overwrite)`],
    ['1.2', true, 'unchanged (already this digest)'],
    ['latest', true, 'pushed'],
    ['latest', false, 'not pushed'],
  ])('%s (pushed %s): %s', (tag, pushed, status) => {
    expect(tagStatus(tag, plan, pushed)).toBe(status);
  });
});

describe('writeReport', () => {
  const report: ImageReport = {
    mode: 'build',
    repository: '127.0.0.1:5000/shop/api',
    digest: NEW,
    version: '1.2.3',
    tags: ['127.0.0.1:5000/shop/api:1.2.3', '127.0.0.1:5000/shop/api:latest'],
    pushed: true,
    builder: 'buildah version 1.28.2',
    plan,
    description: {
      digest: NEW,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      platforms: [
        { platform: 'linux/amd64', digest: OLD, size: 4 * 1024 * 1024 },
        { platform: 'linux/arm64', digest: OLD, size: 2048 },
      ],
      size: 4 * 1024 * 1024 + 2048,
    },
  };

  it('shows the image by digest, the tags with their fate, sizes per platform, the builder and the phases', () => {
    const summary = new SummaryBuilder();
    writeReport(summary, report, [{ name: 'build', startedAt: 0, durationMs: 1500, outcome: 'ok' }]);
    const text = summary.toString();
    expect(text).toContain(`\`127.0.0.1:5000/shop/api@${NEW}\``);
    expect(text).toContain('| `127.0.0.1:5000/shop/api:latest` | pushed |');
    expect(text).toContain(`| \`127.0.0.1:5000/shop/api:1.2.3\` | moved from ${OLD} (overwrite) |`);
    expect(text).toContain('linux/amd64: 4.0 MiB, linux/arm64: 2.0 KiB');
    expect(text).toContain('| builder | buildah version 1.28.2 |');
    expect(text).toContain('build (2s)');
  });

  it('finds the tag of references written as the user wrote the image (Docker Hub short names)', () => {
    const summary = new SummaryBuilder();
    writeReport(
      summary,
      { ...report, repository: 'docker.io/shop/api', tags: ['shop/api:1.2.3', 'shop/api:latest'] },
      [],
    );
    expect(summary.toString()).toContain(`| \`shop/api:1.2.3\` | moved from ${OLD} (overwrite) |`);
    expect(summary.toString()).toContain('| `shop/api:latest` | pushed |');
  });

  it('says when no rule produced a tag', () => {
    const summary = new SummaryBuilder();
    writeReport(summary, { ...report, tags: [] }, []);
    expect(summary.toString()).toContain('reachable by its digest only');
  });
});

describe('writeFailureReport', () => {
  it('collapses the log tail, redacted', () => {
    const summary = new SummaryBuilder();
    writeFailureReport(summary, [], ['STEP 1/2: FROM x', 'token=hunter22 leaked', 'Error: boom'], (text) =>
      text.replaceAll('hunter22', '***'),
    );
    const text = summary.toString();
    expect(text).toContain('<details><summary>Build log, last 3 lines</summary>');
    expect(text).toContain('token=*** leaked');
    expect(text).not.toContain('hunter22');
  });
});
