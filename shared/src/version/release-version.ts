// Where the release version of a run comes from: an explicit version, a tag push, a release event, a
// workflow_dispatch input, or a version file, with monorepo tag prefixes (`api/v1.2.3` is 1.2.3 of `api`).
import { GreenlightError } from '../runtime/errors.ts';
import { branchOf, type GitContext, isPullRequest, tagOf } from './context.ts';
import { cleanVersion, isPrerelease, semverProblem } from './semver.ts';

/** A release version and where it came from. */
export interface ReleaseVersion {
  /** Clean SemVer: `1.2.3`, `1.3.0-rc.2`. */
  version: string;
  /** The text it was read from, without any component prefix: `v1.2.3`. */
  raw: string;
  /** Where it came from, in words: `tag api/v1.2.3`, `release event`, `RELEASE.txt`. */
  source: string;
  /** True for a SemVer pre-release, or a GitHub release marked as pre-release. */
  prerelease: boolean;
  /** The monorepo component the tag named (`api` for `api/v1.2.3`). */
  component?: string;
}

export interface ReleaseVersionRequest {
  context: GitContext;
  /** An explicit version (the `version` input); wins over everything else. */
  version?: string;
  /** Only tags that start with this prefix are releases of this component (`api/`); it is removed first. */
  tagPrefix?: string;
  /** A version read from RELEASE.txt, package.json or Chart.yaml. */
  fileVersion?: { source: string; version: string };
}

/** The outcome: the version when there is one, and in every case a sentence saying how it was decided. */
export interface ReleaseVersionResult {
  release?: ReleaseVersion;
  reason: string;
}

function invalid(what: string, text: string): never {
  throw new GreenlightError({
    what,
    reason: semverProblem(text),
    hint: 'a release version is X.Y.Z with an optional -pre-release and +build, and may start with v',
  });
}

/** Splits a tag into component and version text: by `tagPrefix` when given, else at the last `/`. */
function splitTag(
  tag: string,
  tagPrefix: string | undefined,
): { component?: string; raw: string } | undefined {
  if (tagPrefix) {
    if (!tag.startsWith(tagPrefix)) return undefined;
    const component = tagPrefix.replace(/[/@_-]+$/, '');
    return { component: component || undefined, raw: tag.slice(tagPrefix.length) };
  }
  const slash = tag.lastIndexOf('/');
  if (slash === -1) return { raw: tag };
  return { component: tag.slice(0, slash), raw: tag.slice(slash + 1) };
}

function fromTag(
  tag: string,
  request: ReleaseVersionRequest,
  prerelease: boolean,
  source: string,
): ReleaseVersionResult {
  const split = splitTag(tag, request.tagPrefix);
  if (!split) {
    return {
      reason: `${source} is not a release of this component: it does not start with "${request.tagPrefix}"`,
    };
  }
  const version = cleanVersion(split.raw);
  if (!version) return { reason: `${source} is not a release: ${semverProblem(split.raw)}` };
  const release: ReleaseVersion = {
    version,
    raw: split.raw,
    source,
    prerelease: prerelease || isPrerelease(version),
  };
  if (split.component) release.component = split.component;
  const of = release.component ? ` of component ${release.component}` : '';
  return { release, reason: `version ${version}${of} from ${source}` };
}

/**
 * Decides the release version of a run. In order: the explicit version; a `release` event's tag; a
 * workflow_dispatch `version` input; a pushed (or dispatched-on) tag; the version file, but only on the default branch (or a dispatch without a
 * version) and never for a pull request or another tag. A malformed explicit or dispatch version is an error;
 * a tag that is not a version simply makes no release.
 */
export function resolveReleaseVersion(request: ReleaseVersionRequest): ReleaseVersionResult {
  const { context } = request;
  if (request.version !== undefined && request.version.trim() !== '') {
    const version = cleanVersion(request.version) ?? invalid('the version input', request.version);
    const raw = request.version.trim();
    return {
      release: { version, raw, source: 'the version input', prerelease: isPrerelease(version) },
      reason: `version ${version} from the version input`,
    };
  }
  if (context.eventName === 'release' && context.release) {
    return fromTag(
      context.release.tagName,
      request,
      context.release.prerelease,
      `release ${context.release.tagName}`,
    );
  }
  const dispatched = context.eventName === 'workflow_dispatch' ? context.inputs?.version?.trim() : undefined;
  if (dispatched) {
    const version = cleanVersion(dispatched) ?? invalid('the workflow_dispatch input `version`', dispatched);
    return {
      release: {
        version,
        raw: dispatched,
        source: 'workflow_dispatch input version',
        prerelease: isPrerelease(version),
      },
      reason: `version ${version} from the workflow_dispatch input version`,
    };
  }
  const tag = tagOf(context);
  if (tag !== undefined) return fromTag(tag, request, false, `tag ${tag}`);
  if (request.fileVersion) {
    const { source, version: text } = request.fileVersion;
    if (isPullRequest(context)) return { reason: `${source} is not used for pull requests` };
    const branch = branchOf(context);
    if (branch !== undefined && context.defaultBranch !== undefined && branch !== context.defaultBranch) {
      return {
        reason: `${source} is only used on the default branch ${context.defaultBranch}, this is ${branch}`,
      };
    }
    const version = cleanVersion(text) ?? invalid(`the version in ${source}`, text);
    return {
      release: { version, raw: text, source, prerelease: isPrerelease(version) },
      reason: `version ${version} from ${source}`,
    };
  }
  return { reason: `no release: ${context.ref || 'no ref'} is not a tag and no version was given` };
}
