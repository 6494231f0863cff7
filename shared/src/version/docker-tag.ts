// Turning any text (a branch name, a rendered pattern) into a valid Docker tag, without two different long
// inputs ever landing on the same tag.
import { createHash } from 'node:crypto';
import { TAG_LENGTH_MAX } from '../image/reference.ts';

/** The result of making a Docker tag: the tag (absent when nothing usable is left) and what was changed. */
export interface DockerTag {
  tag?: string;
  changes: string[];
}

const HASH_LENGTH = 8;

/**
 * Makes `value` a valid Docker tag: runs of characters other than letters, digits, `_`, `.` and `-` become one
 * `-` (as metadata-action does), leading `.` and `-` are dropped, and a tag longer than 128 characters is cut and
 * ends in `-` plus 8 hex digits of the SHA-256 of the whole value, so two long branches never share a tag.
 */
export function toDockerTag(value: string): DockerTag {
  const changes: string[] = [];
  let tag = value.replace(/[^a-zA-Z0-9._-]+/g, '-');
  if (tag !== value) changes.push(`characters a tag cannot hold became "-" ("${value}" -> "${tag}")`);
  const stripped = tag.replace(/^[.-]+/, '');
  if (stripped !== tag)
    changes.push('leading "." or "-" removed (a tag must start with a letter, digit or "_")');
  tag = stripped;
  if (tag === '') return { changes: [...changes, 'nothing is left for a tag'] };
  if (tag.length > TAG_LENGTH_MAX) {
    const hash = createHash('sha256').update(value).digest('hex').slice(0, HASH_LENGTH);
    tag = `${tag.slice(0, TAG_LENGTH_MAX - HASH_LENGTH - 1)}-${hash}`;
    changes.push(`shortened to ${TAG_LENGTH_MAX} characters with a hash of the full text`);
  }
  return { tag, changes };
}
