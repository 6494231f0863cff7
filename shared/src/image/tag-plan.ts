import * as semver from 'semver';
import { GreenlightError } from '../runtime/errors.ts';

/**
 * True for a release tag, which is immutable once pushed: a full semantic version (`1.2.3`, `v1.2.3`,
 * `1.3.0-rc.2`). Moving tags (`latest`, `1.2`, `1`, branch names, `sha-...`, `rc`) are not.
 */
export function isReleaseTag(tag: string): boolean {
  return semver.valid(tag) !== null;
}

/** A release tag that already points to another digest. */
export interface TagConflict {
  tag: string;
  /** The digest the registry has under the tag now. */
  existing: string;
  /** The digest this run would give it. */
  incoming: string;
}

/** What pushing `digest` under each tag does, decided before any tag is written. */
export interface TagPlan {
  /** Tags to write: new ones, moving tags, and release tags moved with `overwrite`. */
  write: string[];
  /** Tags that already point to the digest (a re-run): written again, harmlessly, so nothing is left out. */
  unchanged: string[];
  /** Release tags that point elsewhere. Refused unless `overwrite`; then also listed in `write`. */
  conflicts: TagConflict[];
}

/**
 * Plans the tags for `digest`. `current` maps each tag to the digest the registry has under it now (absent when
 * the tag does not exist). Release tags that point to another digest are conflicts; with `overwrite` they are
 * written anyway. Pure.
 */
export function planTags(
  tags: readonly string[],
  current: ReadonlyMap<string, string | undefined>,
  digest: string,
  overwrite: boolean,
): TagPlan {
  const plan: TagPlan = { write: [], unchanged: [], conflicts: [] };
  for (const tag of new Set(tags)) {
    const existing = current.get(tag);
    if (existing === digest) {
      plan.unchanged.push(tag);
      plan.write.push(tag);
      continue;
    }
    if (existing !== undefined && isReleaseTag(tag)) {
      plan.conflicts.push({ tag, existing, incoming: digest });
      if (!overwrite) continue;
    }
    plan.write.push(tag);
  }
  return plan;
}

/** The error for release tags that would move: names the repository, each tag and both digests. */
export function overwriteRefusal(repository: string, conflicts: readonly TagConflict[]): GreenlightError {
  const each = conflicts.map((c) => `${c.tag} points to ${c.existing}, this run built ${c.incoming}`);
  return new GreenlightError({
    what: 'immutable release check',
    object: { kind: 'image', name: repository },
    reason: `release tag${conflicts.length > 1 ? 's' : ''} already pushed with different content: ${each.join('; ')}`,
    hint:
      'a release tag is never moved: release a new version, or set `overwrite: true` to move it on purpose. ' +
      'Nothing was tagged',
  });
}
