// Tags, the canonical version, OCI labels and annotations from tag rules and the git context: the logic of
// docker/metadata-action, with Greenlight's extensions (version sources, monorepo prefixes, PR head commits,
// `latest` only for the highest release, pre-release channels, always-valid tags, explanations). Pure: no I/O.
import * as semver from 'semver';
import { parseImageReference } from '../image/reference.ts';
import { GreenlightError } from '../runtime/errors.ts';
import { branchOf, buildCommit, type GitContext, isPullRequest, tagOf } from './context.ts';
import { toDockerTag } from './docker-tag.ts';
import { type ReleaseVersion, resolveReleaseVersion } from './release-version.ts';
import { type Flavor, formatRule, parseFlavor, parseTagRules, type TagRule } from './rules.ts';
import { cleanVersion, highestRelease } from './semver.ts';
import { dateHelper, type Helper, isRawOnly, renderTemplate } from './template.ts';

export interface MetadataRequest {
  /** Image repositories, one per entry (`ghcr.io/acme/api`), or `name=<repo>,enable=<bool>`. */
  images: string[];
  /** Tag rules, one per entry, in metadata-action syntax. Empty means its defaults. */
  tagRules: string[];
  flavor: string[];
  /** Extra labels `key=value`; they override the OCI defaults. */
  labels?: string[];
  /** Extra annotations `key=value`; they override the OCI defaults. */
  annotations?: string[];
  context: GitContext;
  /** An explicit release version (wins over every other source). */
  version?: string;
  /** Monorepo tag prefix: only tags starting with it are releases, and it is removed (`api/`). */
  tagPrefix?: string;
  /** Tags that already exist (registry tags or git tags); `latest` goes only to the highest release among them. */
  existingTags?: string[];
  /** The version read from a version file (RELEASE.txt, package.json, Chart.yaml). */
  fileVersion?: { source: string; version: string };
  /** The build time (for `created` and `{{date}}`); now by default. */
  now?: Date;
}

/** Why one rule did or did not produce tags. */
export interface TagExplanation {
  rule: string;
  produced: string[];
  reason: string;
}

export interface Metadata {
  /** The canonical version: the tag of the highest-priority rule that produced one ('' when none did). */
  version: string;
  /** Full references `image:tag`, every image times every tag name. */
  tags: string[];
  /** The tag names alone. */
  tagNames: string[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
  explanation: TagExplanation[];
  /** The SemVer of this release, when the run is one. */
  release?: string;
  /** Where the release version came from, when the run is a release. */
  versionSource?: string;
  /** The monorepo component of the release tag, when it names one. */
  component?: string;
}

/** What one rule yields before prefixes: a value (or none) and its `latest` vote under latest=auto. */
interface RuleOutcome {
  value?: string;
  latestVote: boolean;
  reason: string;
}

const OCI = 'org.opencontainers.image';

/** Parses the images input into lowercased repository names, dropping disabled ones. */
export function parseImages(entries: readonly string[]): string[] {
  const images: string[] = [];
  for (const entry of entries) {
    const text = entry.trim();
    if (text === '' || text.startsWith('#')) continue;
    let name = text;
    let enabled = true;
    if (/^name=/i.test(text)) {
      const attrs = Object.fromEntries(
        text.split(',').map((field) => {
          const eq = field.indexOf('=');
          return [field.slice(0, eq).trim().toLowerCase(), field.slice(eq + 1).trim()];
        }),
      );
      name = attrs.name ?? '';
      if (attrs.enable !== undefined && attrs.enable !== 'true' && attrs.enable !== 'false') {
        throw new GreenlightError({
          what: `image "${text}"`,
          reason: `enable=${attrs.enable} is not true or false`,
        });
      }
      enabled = attrs.enable !== 'false';
    }
    if (!enabled) continue;
    const lower = name.toLowerCase();
    const ref = parseImageReference(lower);
    if (ref.tag !== undefined || ref.digest !== undefined) {
      throw new GreenlightError({
        what: `image "${name}"`,
        reason: 'it carries a tag or digest, but tags come from the tag rules',
        hint: `give the repository alone: ${lower.replace(/[:@][^/]*$/, '')}`,
      });
    }
    if (!images.includes(lower)) images.push(lower);
  }
  return images;
}

/** Splits `key=value` lines into a map; a line without `=` is an error naming the input. */
function keyValues(
  lines: readonly string[],
  what: string,
  render: (text: string) => string,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of lines) {
    const text = line.trim();
    if (text === '' || text.startsWith('#')) continue;
    const eq = text.indexOf('=');
    if (eq <= 0) throw new GreenlightError({ what, reason: `"${text}" is not key=value` });
    out[text.slice(0, eq).trim()] = render(text.slice(eq + 1).trim());
  }
  return out;
}

function sorted(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The computation for one request; a class only to share the parsed inputs between the rule handlers. */
class MetadataComputation {
  private readonly request: MetadataRequest;
  private readonly context: GitContext;
  private readonly flavor: Flavor;
  private readonly now: Date;
  private readonly release: ReleaseVersion | undefined;
  private readonly releaseReason: string;
  private readonly globals: Record<string, Helper>;

  constructor(request: MetadataRequest) {
    this.request = request;
    this.context = request.context;
    this.flavor = parseFlavor(request.flavor);
    this.now = request.now ?? new Date();
    const resolved = resolveReleaseVersion(request);
    this.release = resolved.release;
    this.releaseReason = resolved.reason;
    const context = this.context;
    const commitDate = context.commitDate ? new Date(context.commitDate) : undefined;
    this.globals = {
      branch: () => branchOf(context) ?? '',
      tag: () => tagOf(context) ?? '',
      sha: () => buildCommit(context).slice(0, 7),
      base_ref: () => (isPullRequest(context) ? (context.baseRef ?? '') : ''),
      is_default_branch: () => String(this.isDefaultBranch()),
      date: dateHelper(this.now, 'date'),
      commit_date: dateHelper(commitDate, 'commit_date'),
    };
  }

  private isDefaultBranch(): boolean {
    if (this.context.eventName === 'schedule') return true;
    const branch = branchOf(this.context);
    return branch !== undefined && branch === this.context.defaultBranch;
  }

  private render(text: string, where: string, extra: Record<string, Helper> = {}): string {
    return renderTemplate(text, { ...this.globals, ...extra }, where);
  }

  /** Prefix and suffix: the rule's own when it has them, else the flavor's. */
  private decorate(value: string, rule: TagRule): string {
    const where = `tag rule "${rule.text}"`;
    const prefix = Object.hasOwn(rule.attrs, 'prefix') ? rule.attrs.prefix : this.flavor.prefix;
    const suffix = Object.hasOwn(rule.attrs, 'suffix') ? rule.attrs.suffix : this.flavor.suffix;
    return `${this.render(prefix ?? '', where)}${value}${this.render(suffix ?? '', where)}`;
  }

  private semverOutcome(rule: TagRule): RuleOutcome {
    const where = `tag rule "${rule.text}"`;
    let release: ReleaseVersion | undefined = this.release;
    let from = release?.source;
    if (rule.attrs.value !== undefined && rule.attrs.value !== '') {
      const text = this.render(rule.attrs.value, where);
      const version = cleanVersion(text);
      if (!version) return { latestVote: false, reason: `value ${text} is not a semantic version` };
      release = { version, raw: text, source: 'value=', prerelease: semver.prerelease(version) !== null };
      from = `value=${text}`;
    }
    if (!release) return { latestVote: false, reason: `not a release (${this.releaseReason})` };
    const parsed = semver.parse(release.version) as semver.SemVer;
    const placeholders: Record<string, Helper> = {
      version: () => parsed.version,
      raw: () => release.raw,
      major: () => String(parsed.major),
      minor: () => String(parsed.minor),
      patch: () => String(parsed.patch),
    };
    const pattern = rule.attrs.pattern as string;
    if (semver.prerelease(release.version)) {
      const kept = isRawOnly(pattern) ? pattern : '{{version}}';
      const value = this.render(kept, where, placeholders);
      return {
        value,
        latestVote: false,
        reason: `pre-release ${release.version} from ${from} gets only its ${isRawOnly(pattern) ? 'raw text' : 'full version'}, never ${pattern}`,
      };
    }
    const value = this.render(pattern, where, placeholders);
    return {
      value,
      latestVote: !release.prerelease,
      reason: `${pattern} of ${release.version} from ${from}`,
    };
  }

  private matchOutcome(rule: TagRule): RuleOutcome {
    const where = `tag rule "${rule.text}"`;
    let subject: string | undefined;
    let from: string;
    if (rule.attrs.value) {
      subject = this.render(rule.attrs.value, where);
      from = `value=${subject}`;
    } else if (tagOf(this.context) !== undefined) {
      subject = tagOf(this.context) as string;
      from = `tag ${subject}`;
    } else if (this.release) {
      subject = this.release.raw;
      from = this.release.source;
    } else {
      return { latestVote: false, reason: `no tag to match (${this.releaseReason})` };
    }
    const pattern = rule.attrs.pattern as string;
    const literal = /^\/(.+)\/([a-z]*)$/.exec(pattern);
    let regex: RegExp;
    try {
      regex = literal ? new RegExp(literal[1] as string, literal[2]) : new RegExp(pattern);
    } catch (error) {
      throw new GreenlightError({
        what: where,
        reason: `pattern ${pattern} is not a valid regular expression: ${error instanceof Error ? error.message : error}`,
        cause: error,
      });
    }
    const match = regex.exec(subject);
    if (!match) return { latestVote: false, reason: `${pattern} does not match ${subject} (${from})` };
    const group = match[Number(rule.attrs.group)];
    if (group === undefined) {
      return {
        latestVote: false,
        reason: `group ${rule.attrs.group} of ${pattern} did not take part in the match`,
      };
    }
    return {
      value: group,
      latestVote: true,
      reason: `group ${rule.attrs.group} of ${pattern} on ${subject} (${from})`,
    };
  }

  private outcome(rule: TagRule): RuleOutcome {
    const where = `tag rule "${rule.text}"`;
    const context = this.context;
    const auto = { latestVote: false };
    switch (rule.type) {
      case 'schedule':
        if (context.eventName !== 'schedule')
          return { ...auto, reason: `event is ${context.eventName || 'unknown'}, not schedule` };
        return { ...auto, value: this.render(rule.attrs.pattern as string, where), reason: 'scheduled run' };
      case 'semver':
        return this.semverOutcome(rule);
      case 'match':
        return this.matchOutcome(rule);
      case 'channel': {
        const release = this.release;
        if (!release) return { ...auto, reason: `not a release (${this.releaseReason})` };
        const pre = semver.prerelease(release.version);
        if (!pre)
          return { ...auto, reason: `${release.version} is a final release, not on a pre-release channel` };
        const channel = String(pre[0]).replace(/\d+$/, '');
        if (!/^[a-zA-Z][a-zA-Z-]*$/.test(channel)) {
          return {
            ...auto,
            reason: `pre-release ${release.version} does not name a channel (like rc, beta)`,
          };
        }
        return { ...auto, value: channel, reason: `pre-release ${release.version} is on channel ${channel}` };
      }
      case 'ref': {
        if (rule.attrs.event === 'pr') {
          if (!isPullRequest(context) || context.prNumber === undefined) {
            return { ...auto, reason: 'not a pull request' };
          }
          return { ...auto, value: String(context.prNumber), reason: `pull request #${context.prNumber}` };
        }
        if (rule.attrs.event === 'tag') {
          const tag = tagOf(context);
          if (tag === undefined) return { ...auto, reason: `${context.ref || 'no ref'} is not a tag` };
          return { value: tag, latestVote: true, reason: `tag ${tag}` };
        }
        const branch = branchOf(context);
        if (branch === undefined || isPullRequest(context)) {
          return { ...auto, reason: `${context.ref || 'no ref'} is not a branch push` };
        }
        return { ...auto, value: branch, reason: `branch ${branch}` };
      }
      case 'edge': {
        const branch = branchOf(context);
        if (branch === undefined || isPullRequest(context))
          return { ...auto, reason: `${context.ref || 'no ref'} is not a branch push` };
        const edge = rule.attrs.branch || context.defaultBranch;
        if (!edge) return { ...auto, reason: 'the default branch is unknown; give branch=' };
        if (branch !== edge) return { ...auto, reason: `branch ${branch} is not ${edge}` };
        return { ...auto, value: 'edge', reason: `branch ${branch} is the edge branch` };
      }
      case 'raw':
        return { ...auto, value: this.render(rule.attrs.value as string, where), reason: 'raw value' };
      case 'sha': {
        const commit = buildCommit(context);
        if (!commit) return { ...auto, reason: 'the commit is unknown' };
        const value = rule.attrs.format === 'long' ? commit : commit.slice(0, 7);
        const which = commit === context.sha ? 'commit' : 'pull request head commit (not the merge commit)';
        return { ...auto, value, reason: `${which} ${commit}` };
      }
    }
  }

  /** Decides `latest` from the first producing rule's vote, the flavor and the existing releases. */
  private latest(vote: boolean | undefined): { latest: boolean; reason: string } {
    if (this.flavor.latest === 'true') return { latest: true, reason: 'flavor latest=true' };
    if (this.flavor.latest === 'false') return { latest: false, reason: 'flavor latest=false' };
    if (!vote)
      return { latest: false, reason: 'the canonical tag does not come from a final release (latest=auto)' };
    const release = this.release;
    const tag = tagOf(this.context);
    if (!release && tag !== undefined && this.request.tagPrefix && !tag.startsWith(this.request.tagPrefix)) {
      return {
        latest: false,
        reason: `tag ${tag} is not a release of this component (${this.request.tagPrefix})`,
      };
    }
    if (release?.prerelease) return { latest: false, reason: `${release.version} is a pre-release` };
    if (release && this.request.existingTags && this.request.existingTags.length > 0) {
      const existing = this.existingReleases();
      const highest = highestRelease(existing);
      if (highest && semver.lt(release.version, highest)) {
        return {
          latest: false,
          reason: `${release.version} is lower than the existing release ${highest} (a backport)`,
        };
      }
      return {
        latest: true,
        reason: highest
          ? `${release.version} is the highest release (existing highest ${highest})`
          : `${release.version} is the first release among the existing tags`,
      };
    }
    return { latest: true, reason: 'the canonical tag comes from a final release (latest=auto)' };
  }

  /** The existing tags that are releases of this component, as clean versions. */
  private existingReleases(): string[] {
    const prefix = this.request.tagPrefix;
    const versions: string[] = [];
    for (const tag of this.request.existingTags ?? []) {
      const text = prefix && tag.startsWith(prefix) ? tag.slice(prefix.length) : tag;
      const version = cleanVersion(text);
      if (version) versions.push(version);
    }
    return versions;
  }

  run(): Metadata {
    const images = parseImages(this.request.images);
    const rules = parseTagRules(this.request.tagRules);
    const explanation: TagExplanation[] = [
      { rule: 'version source', produced: [], reason: this.releaseReason },
    ];
    const names: string[] = [];
    let vote: boolean | undefined;
    for (const rule of rules) {
      const text = formatRule(rule);
      const where = `tag rule "${rule.text}"`;
      const enable = this.render(rule.attrs.enable ?? 'true', where).trim();
      if (enable !== 'true' && enable !== 'false') {
        throw new GreenlightError({
          what: where,
          reason: `enable= must be true or false, it is "${enable}"`,
        });
      }
      if (enable === 'false') {
        explanation.push({ rule: text, produced: [], reason: `disabled (enable=${rule.attrs.enable})` });
        continue;
      }
      const outcome = this.outcome(rule);
      if (outcome.value === undefined || outcome.value === '') {
        explanation.push({ rule: text, produced: [], reason: outcome.reason });
        continue;
      }
      const docker = toDockerTag(this.decorate(outcome.value, rule));
      const reason = [outcome.reason, ...docker.changes].join('; ');
      if (docker.tag === undefined) {
        explanation.push({ rule: text, produced: [], reason });
        continue;
      }
      if (names.includes(docker.tag)) {
        explanation.push({
          rule: text,
          produced: [],
          reason: `${reason}; ${docker.tag} already comes from an earlier rule`,
        });
        continue;
      }
      vote ??= outcome.latestVote;
      names.push(docker.tag);
      explanation.push({ rule: text, produced: [docker.tag], reason });
    }
    const latest =
      names.length === 0 ? { latest: false, reason: 'no rule produced a tag' } : this.latest(vote);
    const flavorText = `flavor latest=${this.flavor.latest}`;
    if (latest.latest) {
      const prefix = this.flavor.prefixLatest ? this.flavor.prefix : '';
      const suffix = this.flavor.suffixLatest ? this.flavor.suffix : '';
      const tag = toDockerTag(`${this.render(prefix, 'flavor')}latest${this.render(suffix, 'flavor')}`)
        .tag as string;
      if (!names.includes(tag)) names.push(tag);
      explanation.push({ rule: flavorText, produced: [tag], reason: latest.reason });
    } else {
      explanation.push({ rule: flavorText, produced: [], reason: latest.reason });
    }

    const version = names[0] ?? '';
    const tags =
      images.length === 0 ? [...names] : images.flatMap((image) => names.map((name) => `${image}:${name}`));
    const defaults = this.ociDefaults(version);
    const where = (input: string) => (text: string) => this.render(text, input);
    const labels = sorted({
      ...defaults,
      ...keyValues(this.request.labels ?? [], 'labels', where('labels')),
    });
    const annotations = sorted({
      ...defaults,
      ...keyValues(this.request.annotations ?? [], 'annotations', where('annotations')),
    });
    const metadata: Metadata = { version, tags, tagNames: names, labels, annotations, explanation };
    if (this.release) {
      metadata.release = this.release.version;
      metadata.versionSource = this.release.source;
      if (this.release.component) metadata.component = this.release.component;
    }
    return metadata;
  }

  /** The OCI labels metadata-action sets; empty ones are left out. */
  private ociDefaults(version: string): Record<string, string> {
    const context = this.context;
    const url = context.repository
      ? `${context.serverUrl ?? 'https://github.com'}/${context.repository}`
      : '';
    const values: Record<string, string> = {
      [`${OCI}.title`]: context.repository?.split('/')[1] ?? '',
      [`${OCI}.description`]: context.description ?? '',
      [`${OCI}.url`]: url,
      [`${OCI}.source`]: url,
      [`${OCI}.version`]: version,
      [`${OCI}.created`]: this.now.toISOString(),
      [`${OCI}.revision`]: buildCommit(context),
      [`${OCI}.licenses`]: context.license ?? '',
    };
    return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== ''));
  }
}

/**
 * Computes tags, the canonical version, labels, annotations and an explanation of every rule from tag rules in
 * metadata-action syntax and the git context. Pure: everything it needs is in the request. Throws a
 * GreenlightError for a malformed rule, flavor, image, label or version.
 */
export function computeMetadata(request: MetadataRequest): Metadata {
  return new MetadataComputation(request).run();
}
