import type { Phase, SummaryBuilder } from '../runtime/summary.ts';
import type { Metadata } from '../version/metadata.ts';
import { formatImageSize } from './manifest.ts';
import type { ImageDescription } from './publish.ts';
import type { TagPlan } from './tag-plan.ts';

/** What one build-image run did, for the job summary and the `json` output. */
export interface ImageReport {
  mode: 'build' | 'retag';
  /** The repository, `registry/path/name`. */
  repository: string;
  digest: string;
  version: string;
  /** Full references, `repository:tag`. */
  tags: string[];
  pushed: boolean;
  /** `buildah version 1.28.2 ...`, `github.com/docker/buildx v0.20.0 ...`, or `registry API` for a retag. */
  builder: string;
  /** For a retag: the image it came from, and how it travelled. */
  source?: string;
  copiedBy?: string;
  plan?: TagPlan;
  description?: ImageDescription;
  /** The computed tags, labels, annotations and the explanation of each rule. */
  metadata?: Metadata;
}

/** One line per tag: what happened to it. */
export function tagStatus(tag: string, plan: TagPlan | undefined, pushed: boolean): string {
  if (!pushed || !plan) return 'not pushed';
  const conflict = plan.conflicts.find((c) => c.tag === tag);
  if (conflict) return `moved from ${conflict.existing} (overwrite)`;
  if (plan.unchanged.includes(tag)) return 'unchanged (already this digest)';
  return 'pushed';
}

/** Writes the summary of a successful run: the image, its tags, size, builder and the time per phase. */
export function writeReport(summary: SummaryBuilder, report: ImageReport, phases: readonly Phase[]): void {
  const title =
    report.mode === 'retag' ? 'Image retagged' : report.pushed ? 'Image built and pushed' : 'Image built';
  summary.heading(`📦 ${title}: ${report.repository}`, 3);
  const rows: string[][] = [
    ['image', report.pushed ? `\`${report.repository}@${report.digest}\`` : 'not pushed'],
    ['digest', `\`${report.digest}\``],
    ['version', report.version ? `\`${report.version}\`` : '(none)'],
  ];
  if (report.description) {
    const platforms = report.description.platforms
      .map((p) =>
        p.platform === 'single' ? formatImageSize(p.size) : `${p.platform}: ${formatImageSize(p.size)}`,
      )
      .join(', ');
    rows.push(['size (compressed)', platforms]);
  }
  rows.push([report.mode === 'retag' ? 'copied by' : 'builder', report.copiedBy ?? report.builder]);
  if (report.source) rows.push(['source', `\`${report.source}\``]);
  summary.table(['', ''], rows);
  if (report.tags.length > 0) {
    // The tag is what follows the last colon: a tag holds no colon or slash, a registry port comes before a slash.
    const tagName = (tag: string) => tag.slice(tag.lastIndexOf(':') + 1);
    summary.table(
      ['tag', 'status'],
      report.tags.map((tag) => [`\`${tag}\``, tagStatus(tagName(tag), report.plan, report.pushed)]),
    );
  } else {
    summary.text('No tag rule produced a tag: the image is reachable by its digest only.');
  }
  summary.timeline('build-image phases', phases);
}

/** Writes what is known of a failed run: the time per phase and the end of the tool's log, collapsed. */
export function writeFailureReport(
  summary: SummaryBuilder,
  phases: readonly Phase[],
  tail: readonly string[],
  redactText: (text: string) => string,
): void {
  summary.timeline('build-image phases', phases);
  if (tail.length > 0) {
    const text = redactText(tail.join('\n'));
    const fence = text.includes('```') ? '````' : '```';
    summary.details(`Build log, last ${tail.length} lines`, `${fence}text\n${text}\n${fence}`);
  }
}
