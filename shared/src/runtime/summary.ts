import { formatDuration } from './duration.ts';

/** One phase of a run, for the timeline: when it started and how long it took. */
export interface Phase {
  name: string;
  startedAt: number;
  durationMs: number;
  outcome: 'ok' | 'failed' | 'skipped';
}

/** Escapes text for a Markdown table cell. */
export function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>');
}

/** Builds a job summary in GitHub-flavoured Markdown: headings, tables, collapsible sections, timelines. */
export class SummaryBuilder {
  private readonly parts: string[] = [];

  /** Adds a heading (level 2 by default). */
  heading(text: string, level = 2): this {
    this.parts.push(`${'#'.repeat(level)} ${text}`);
    return this;
  }

  /** Adds a paragraph of Markdown. */
  text(markdown: string): this {
    this.parts.push(markdown);
    return this;
  }

  /** Adds a table; cells are escaped. */
  table(header: readonly string[], rows: readonly (readonly string[])[]): this {
    const lines = [`| ${header.map(cell).join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`];
    for (const row of rows) lines.push(`| ${row.map(cell).join(' | ')} |`);
    this.parts.push(lines.join('\n'));
    return this;
  }

  /** Adds a collapsed section whose body is Markdown (a code block for logs). */
  details(summary: string, body: string): this {
    this.parts.push(`<details><summary>${summary}</summary>\n\n${body}\n\n</details>`);
    return this;
  }

  /** Adds a fenced code block. */
  code(text: string, language = ''): this {
    const fence = text.includes('```') ? '````' : '```';
    this.parts.push(`${fence}${language}\n${text}\n${fence}`);
    return this;
  }

  /** Adds a mermaid Gantt chart of the phases, so the summary shows where the time went. */
  timeline(title: string, phases: readonly Phase[]): this {
    if (phases.length === 0) return this;
    const origin = phases[0]?.startedAt ?? 0;
    const lines = ['```mermaid', 'gantt', `  title ${title}`, '  dateFormat x', '  axisFormat %M:%S'];
    for (const phase of phases) {
      const tag = phase.outcome === 'failed' ? 'crit, ' : phase.outcome === 'skipped' ? 'done, ' : '';
      const label = `${phase.name} (${formatDuration(phase.durationMs)})`.replace(/[:;#]/g, ' ');
      const start = phase.startedAt - origin;
      lines.push(`  ${label} : ${tag}${start}, ${start + Math.max(phase.durationMs, 1)}`);
    }
    lines.push('```');
    this.parts.push(lines.join('\n'));
    return this;
  }

  /** True when nothing has been added. */
  isEmpty(): boolean {
    return this.parts.length === 0;
  }

  /** The Markdown text. */
  toString(): string {
    return this.parts.length === 0 ? '' : `${this.parts.join('\n\n')}\n`;
  }
}

/** Records phases as they run, for logs, the timeline and the JSON outputs. */
export class PhaseClock {
  readonly phases: Phase[] = [];
  private readonly now: () => number;

  constructor(now: () => number = Date.now) {
    this.now = now;
  }

  /** Runs `fn` as a named phase and records how long it took and whether it failed. */
  async run<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const startedAt = this.now();
    try {
      const result = await fn();
      this.phases.push({ name, startedAt, durationMs: this.now() - startedAt, outcome: 'ok' });
      return result;
    } catch (error) {
      this.phases.push({ name, startedAt, durationMs: this.now() - startedAt, outcome: 'failed' });
      throw error;
    }
  }

  /** Records a phase that was skipped, with zero duration. */
  skip(name: string): void {
    this.phases.push({ name, startedAt: this.now(), durationMs: 0, outcome: 'skipped' });
  }
}
