// RELEASE.txt: the app version (and release notes) written by hand in the forms teams commonly use.
import { GreenlightError } from '../runtime/errors.ts';
import { cleanVersion, semverProblem } from './semver.ts';

/** What a RELEASE.txt holds. */
export interface ReleaseFile {
  /** Clean SemVer. */
  version: string;
  /** The version as written (`v1.2.3`). */
  raw: string;
  /** The 1-based line the version is on. */
  line: number;
  /** The release notes: the text after the version up to the next version heading, trimmed. */
  notes: string;
  /** An optional date written beside the version (`1.2.3 (2026-01-31)`, `## 1.2.3 - 2026-01-31`). */
  date?: string;
}

// A version-like token: digits and dots with an optional pre-release/build, optionally after `v`.
const VERSION_TOKEN = String.raw`[vV]?\d[^\s()[\]]*`;
const DATE = String.raw`(?:\s*(?:[-–—:]\s*|\()\s*(\d{4}-\d{2}-\d{2})\)?)?`;
/** `1.2.3`, `v1.2.3`, with an optional date. */
const BARE = new RegExp(`^(${VERSION_TOKEN})${DATE}$`);
/** `version: 1.2.3`, `VERSION=1.2.3`, `version = "1.2.3"`, `app_version: 1.2.3`. */
const KEY = new RegExp(String.raw`^(?:app[_-]?)?version\s*[:=]\s*["']?([^"'\s]+)["']?${DATE}$`, 'i');
/** `# 1.2.3`, `## [v1.2.3] - 2026-01-31`, `# Release 1.2.3`, `Version 1.2.3`, `Release v1.2.3`. */
const HEADING = new RegExp(
  String.raw`^(?:#{1,6}\s*)?(?:(?:release|version)\s+)?\[?(${VERSION_TOKEN})\]?${DATE}$`,
  'i',
);
const COMMENT = /^(?:#|\/\/|;)/;

/** Reads the version from one line, or returns undefined when the line is not a version line. */
function versionLine(line: string): { raw: string; date?: string } | undefined {
  const text = line.trim();
  const match = BARE.exec(text) ?? KEY.exec(text) ?? HEADING.exec(text);
  if (!match) return undefined;
  const found: { raw: string; date?: string } = { raw: match[1] as string };
  if (match[2]) found.date = match[2];
  return found;
}

function fail(file: string, line: number, reason: string): never {
  throw new GreenlightError({
    what: `read ${file}`,
    reason: `line ${line}: ${reason}`,
    hint: 'start RELEASE.txt with the version alone (1.2.3 or v1.2.3), as "version: 1.2.3", or as a heading "# 1.2.3"; release notes may follow',
    file,
    line,
  });
}

/**
 * Parses a RELEASE.txt. Blank lines and comment lines (`#`, `//`, `;` not followed by a version) before the
 * version are skipped. The first other line must hold the version in one of the forms: `1.2.3`, `v1.2.3`,
 * `version: 1.2.3`, `VERSION=1.2.3`, `# 1.2.3`, `## [1.2.3] - 2026-01-31`, `Release 1.2.3`. The lines after it,
 * up to the next version heading (a changelog's previous release), are the notes. A version line whose version
 * is not SemVer, or a first line that is not a version line, is an error with the line number.
 */
export function parseReleaseFile(text: string, file = 'RELEASE.txt'): ReleaseFile {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  let index = 0;
  for (; index < lines.length; index++) {
    const line = (lines[index] as string).trim();
    if (line === '') continue;
    if (COMMENT.test(line) && !versionLine(line)) continue;
    break;
  }
  if (index >= lines.length)
    fail(file, Math.max(lines.length, 1), 'no version found: the file is empty or only comments');
  const lineNumber = index + 1;
  const first = (lines[index] as string).trim();
  const found = versionLine(first);
  if (!found) {
    fail(
      file,
      lineNumber,
      `expected the version (1.2.3, v1.2.3, version: 1.2.3 or # 1.2.3), found "${first}"`,
    );
  }
  const version = cleanVersion(found.raw);
  if (!version) fail(file, lineNumber, semverProblem(found.raw));

  const notes: string[] = [];
  for (let i = index + 1; i < lines.length; i++) {
    const line = lines[i] as string;
    if (/^#{1,6}\s/.test(line.trim()) && versionLine(line)) break;
    if (KEY.test(line.trim())) {
      fail(file, i + 1, `a second version line; the version is already given on line ${lineNumber}`);
    }
    notes.push(line);
  }
  const result: ReleaseFile = { version, raw: found.raw, line: lineNumber, notes: notes.join('\n').trim() };
  if (found.date) result.date = found.date;
  return result;
}
