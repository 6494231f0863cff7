import type { FieldPath } from './types.ts';

/**
 * Maps fields of a rendered object back to lines of the Helm template that produced it. Templates are not YAML
 * until rendered, so this reads them as indented text: it finds the object's document by its `kind:` line, then
 * follows the field path key by key (list items by their `name:`, else by position). Where a key cannot be found
 * (it comes from `toYaml`, an `include` or a `range`), the deepest key found stands in for it.
 */
export class TemplateLines {
  private readonly lines: readonly string[];

  constructor(text: string) {
    this.lines = text.split(/\r?\n/);
  }

  /**
   * The 0-based line index range of the `occurrence`-th document of `kind` in the template: from the line after
   * the preceding `---` (or the top) to the next `---`. Falls back to the first document of that kind, then to the
   * whole file.
   */
  documentOf(kind: string, occurrence: number): { start: number; end: number; kindLine?: number } {
    const kindLines: number[] = [];
    const pattern = new RegExp(`^kind:\\s*["']?${escapeRegExp(kind)}["']?\\s*(#.*)?$`);
    this.lines.forEach((line, index) => {
      if (pattern.test(line)) kindLines.push(index);
    });
    const kindLine = kindLines[occurrence] ?? kindLines[0];
    if (kindLine === undefined) return { start: 0, end: this.lines.length };
    let start = kindLine;
    while (start > 0 && !isSeparator(this.lines[start - 1] as string)) start -= 1;
    let end = kindLine + 1;
    while (end < this.lines.length && !isSeparator(this.lines[end] as string)) end += 1;
    return { start, end, kindLine };
  }

  /** The text of a 1-based line. */
  text(line: number): string {
    return this.lines[line - 1] ?? '';
  }

  /** The 1-based line of the object (its `kind:` line, else the first line of its document). */
  objectLine(kind: string, occurrence: number): number {
    const doc = this.documentOf(kind, occurrence);
    return (doc.kindLine ?? firstContentLine(this.lines, doc.start, doc.end)) + 1;
  }

  /**
   * The 1-based line where `path` is written inside the `occurrence`-th document of `kind`. `value` is the
   * rendered object, used to recognise list items by name.
   */
  locate(kind: string, occurrence: number, path: FieldPath, value: unknown): number {
    return this.locateDepth(kind, occurrence, path, value).line;
  }

  /** Like locate, and also how many segments of `path` were found (the rest come from a template action). */
  locateDepth(
    kind: string,
    occurrence: number,
    path: FieldPath,
    value: unknown,
  ): { line: number; matched: number } {
    const doc = this.documentOf(kind, occurrence);
    let matched = 0;
    let best = (doc.kindLine ?? firstContentLine(this.lines, doc.start, doc.end)) + 1;
    let cursor = doc.start;
    let parentIndent = -1;
    let inItem = false;
    let current: unknown = value;
    for (const segment of path) {
      if (typeof segment === 'string') {
        const found = this.findKey(segment, cursor, doc.end, parentIndent, inItem);
        if (!found) break;
        best = found.index + 1;
        cursor = found.index + 1;
        parentIndent = found.indent;
        inItem = false;
        matched += 1;
        current = isRecord(current) ? current[segment] : undefined;
      } else {
        const items = Array.isArray(current) ? current : [];
        const item: unknown = items[segment];
        const found = this.findItem(segment, item, cursor, doc.end, parentIndent);
        if (!found) break;
        best = found.index + 1;
        cursor = found.index;
        parentIndent = found.indent;
        inItem = true;
        current = item;
        matched += 1;
      }
    }
    return { line: best, matched };
  }

  /**
   * The `.Values` paths that feed a 1-based line: those on the line itself and, for a key whose value a template
   * action writes on the next lines (`resources:` then `{{ toYaml .Values.resources | nindent 12 }}`), those.
   */
  valueReferencesAt(line: number): string[][] {
    const out = valueReferences(this.text(line));
    for (let index = line; index < this.lines.length; index += 1) {
      const next = this.lines[index] as string;
      if (!isNoise(next)) break;
      out.push(...valueReferences(next));
    }
    return out;
  }

  /**
   * The next `key:` in the block that starts at `from`, deeper than `parentIndent`, before the block ends. In a
   * list item (`inItem`, `from` is its dash line) the block ends at the next line as shallow as the dash.
   */
  private findKey(key: string, from: number, end: number, parentIndent: number, inItem: boolean) {
    const pattern = new RegExp(`^(\\s*)(-\\s+)?(["']?)${escapeRegExp(key)}\\3\\s*:(\\s|$)`);
    for (let index = from; index < end; index += 1) {
      const line = this.lines[index] as string;
      if (isNoise(line)) continue;
      const indent = indentOf(line);
      const ended = inItem
        ? index > from && indent <= parentIndent
        : indent < parentIndent || (indent === parentIndent && !line.trimStart().startsWith('-'));
      if (ended) return undefined;
      const match = pattern.exec(line);
      if (!match) continue;
      const keyIndent = (match[1] as string).length + (match[2]?.length ?? 0);
      if (keyIndent > parentIndent) return { index, indent: keyIndent };
    }
    return undefined;
  }

  /** The line of list item `position` under the key at `from`: by its `name:` when it has one, else by its dash. */
  private findItem(position: number, item: unknown, from: number, end: number, parentIndent: number) {
    const dashes: { index: number; indent: number }[] = [];
    let dashIndent: number | undefined;
    for (let index = from; index < end; index += 1) {
      const line = this.lines[index] as string;
      if (isNoise(line)) continue;
      const indent = indentOf(line);
      const isDash = /^\s*-(\s|$)/.test(line);
      if (indent < parentIndent || (indent === parentIndent && !isDash)) break;
      if (!isDash) continue;
      if (dashIndent === undefined) dashIndent = indent;
      if (indent === dashIndent) dashes.push({ index, indent });
    }
    const name = isRecord(item) && typeof item.name === 'string' ? item.name : undefined;
    if (name !== undefined) {
      const namePattern = new RegExp(`^\\s*(-\\s+)?name:\\s*["']?${escapeRegExp(name)}["']?\\s*(#.*)?$`);
      for (let d = 0; d < dashes.length; d += 1) {
        const dash = dashes[d] as { index: number; indent: number };
        const stop = dashes[d + 1]?.index ?? end;
        for (let index = dash.index; index < stop; index += 1) {
          if (namePattern.test(this.lines[index] as string)) return dash;
        }
      }
    }
    return dashes[position];
  }
}

/** The `.Values` paths a template line reads (`.Values.image.tag` gives `['image', 'tag']`), in order. */
export function valueReferences(line: string): string[][] {
  const out: string[][] = [];
  for (const match of line.matchAll(/\.Values((?:\.[A-Za-z_][\w-]*)+)/g)) {
    out.push((match[1] as string).slice(1).split('.'));
  }
  return out;
}

function isSeparator(line: string): boolean {
  return /^---(\s|$)/.test(line);
}

/** Blank lines, comments and lines that are only template actions carry no YAML key of their own. */
function isNoise(line: string): boolean {
  const trimmed = line.trim();
  return trimmed === '' || trimmed.startsWith('#') || (trimmed.startsWith('{{') && trimmed.endsWith('}}'));
}

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}

function firstContentLine(lines: readonly string[], start: number, end: number): number {
  for (let index = start; index < end; index += 1) if (!isNoise(lines[index] as string)) return index;
  return start;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
