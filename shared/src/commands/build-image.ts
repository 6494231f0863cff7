import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type RegistryCredentials,
  resolveCredentials,
  writeAuthFile,
  writeDockerConfigDir,
} from '../image/auth.ts';
import { BuildahBuilder } from '../image/buildah.ts';
import {
  type BuilderChoice,
  BuildFailure,
  type BuiltImage,
  chooseBuilder,
  type ImageBuilder,
  parseBuildSecrets,
  probeBuilders,
} from '../image/builder.ts';
import { BuildxBuilder } from '../image/buildx.ts';
import { isDigest } from '../image/manifest.ts';
import {
  copyWithinRegistry,
  currentDigests,
  describeImage,
  imageRevision,
  requireManifest,
  writeTags,
} from '../image/publish.ts';
import { formatImageReference, type ImageReference, parseImageReference } from '../image/reference.ts';
import { isLoopbackHost, RegistryClient } from '../image/registry.ts';
import { type ImageReport, writeFailureReport, writeReport } from '../image/report.ts';
import { skopeoCopy } from '../image/skopeo.ts';
import { isReleaseTag, overwriteRefusal, planTags, type TagPlan } from '../image/tag-plan.ts';
import { type CommandContext, defineCommand } from '../runtime/command.ts';
import { describeError, GreenlightError, InputError } from '../runtime/errors.ts';
import { Progress, redact } from '../runtime/host.ts';
import type { Inputs } from '../runtime/inputs.ts';
import { gitContextFromEnv } from '../version/context.ts';
import { computeMetadata, type Metadata } from '../version/metadata.ts';
import { readVersionFile } from '../version/sources.ts';

/** Inputs of `build-image`; descriptions are in actions/build-image/action.yml. */
export const buildImageInputs = {
  image: { type: 'string', required: true },
  mode: { type: 'enum', values: ['build', 'retag'], default: 'build' },
  context: { type: 'string', default: '.' },
  file: { type: 'string' },
  target: { type: 'string' },
  tags: { type: 'lines' },
  flavor: { type: 'lines' },
  labels: { type: 'lines' },
  annotations: { type: 'lines' },
  'build-args': { type: 'lines' },
  secrets: { type: 'lines', secret: true },
  platforms: { type: 'list' },
  'cache-from': { type: 'lines' },
  'cache-to': { type: 'lines' },
  push: { type: 'boolean', default: 'true' },
  builder: { type: 'enum', values: ['auto', 'buildx', 'buildah'], default: 'auto' },
  version: { type: 'string' },
  'version-dir': { type: 'string' },
  'tag-prefix': { type: 'string' },
  username: { type: 'string' },
  password: { type: 'string', secret: true },
  source: { type: 'string' },
  'source-username': { type: 'string' },
  'source-password': { type: 'string', secret: true },
  overwrite: { type: 'boolean', default: 'false' },
  summary: { type: 'boolean', default: 'true' },
} as const;

type BuildImageInputs = Inputs<typeof buildImageInputs>;

/** One run's shared state: the target, its registry client, the work folder and the values to redact. */
interface Run {
  inputs: BuildImageInputs;
  context: CommandContext;
  target: ImageReference;
  /** `registry/path/name`, the form tags are written in. */
  repository: string;
  credentials: RegistryCredentials | undefined;
  client: RegistryClient;
  workDir: string;
  secrets: Set<string>;
}

function inputProblems(inputs: BuildImageInputs): string[] {
  const problems: string[] = [];
  if (inputs.mode === 'retag' && !inputs.source)
    problems.push('input `source` is required with `mode: retag` (the image to retag, name@sha256:...)');
  if (inputs.mode === 'build' && inputs.source)
    problems.push('input `source` is only read with `mode: retag`; remove it or set `mode: retag`');
  if (inputs.mode === 'retag' && !inputs.push)
    problems.push('`push: false` with `mode: retag` would do nothing: a retag only writes to the registry');
  for (const [index, line] of inputs['build-args'].entries()) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(line))
      problems.push(`input \`build-args\` line ${index + 1} must be NAME=value, got "${line}"`);
  }
  return problems;
}

/** Parses the `image` input: a repository without tag or digest. */
function parseTarget(image: string): ImageReference {
  const target = parseImageReference(image.toLowerCase());
  if (target.tag !== undefined || target.digest !== undefined) {
    throw new InputError([
      `input \`image\` must be a repository without tag or digest, got "${image}": tags come from \`tags\``,
    ]);
  }
  return target;
}

/**
 * The version file (RELEASE.txt, package.json, Chart.yaml) of the `version-dir` input, else of the build context,
 * else of the repository root.
 */
async function findVersionFile(run: Run): Promise<{ source: string; version: string } | undefined> {
  const { inputs, context } = run;
  const root = context.env.GITHUB_WORKSPACE || process.cwd();
  const dirs = inputs['version-dir'] ? [inputs['version-dir']] : [...new Set([inputs.context, root])];
  for (const dir of dirs) {
    const found = await readVersionFile(dir);
    if (found) return { ...found, source: join(dir, found.source) };
  }
  return undefined;
}

/** Computes the tags, version, labels and annotations from the rules, the git context and the registry's tags. */
function computeFor(
  run: Run,
  existingTags: string[],
  fileVersion: { source: string; version: string } | undefined,
): Metadata {
  const { inputs, context } = run;
  return computeMetadata({
    images: [inputs.image],
    tagRules: inputs.tags,
    flavor: inputs.flavor,
    labels: inputs.labels,
    annotations: inputs.annotations,
    context: gitContextFromEnv(context.env),
    version: inputs.version,
    tagPrefix: inputs['tag-prefix'],
    existingTags,
    fileVersion,
  });
}

/**
 * The metadata of this run. A version read from a version file that the registry already holds as a release
 * tag is a release that happened before: later commits with the same file are ordinary builds, so they get the
 * tags without the version (branch, sha) instead of failing the immutable-release check on every push. A
 * version from a git tag, a release, a dispatch or the `version` input is a deliberate release and is checked.
 */
async function metadataFor(run: Run, existingTags: string[]): Promise<Metadata> {
  const fileVersion = await findVersionFile(run);
  const metadata = computeFor(run, existingTags, fileVersion);
  if (!fileVersion || metadata.versionSource !== fileVersion.source) return metadata;
  const released = metadata.tagNames.filter((tag) => isReleaseTag(tag) && existingTags.includes(tag));
  if (released.length === 0) return metadata;
  run.context.host.info(
    `${fileVersion.source} says ${fileVersion.version}, already released as ${released.join(', ')}: ` +
      'this build is not a new release, so it gets the tags without the version. Bump the file to release.',
  );
  return computeFor(run, existingTags, undefined);
}

/** Logs the computed tags and why each rule did or did not produce one. */
async function logMetadata(run: Run, metadata: Metadata): Promise<void> {
  const { host } = run.context;
  await host.group('Tags', async () => {
    host.info(`version: ${metadata.version || '(none)'}`);
    for (const tag of metadata.tags) host.info(`tag: ${tag}`);
    for (const entry of metadata.explanation)
      host.info(
        `rule ${entry.rule}: ${entry.produced.length > 0 ? entry.produced.join(', ') : '-'} (${entry.reason})`,
      );
  });
}

/** Checks the registry answers and accepts the credentials, and lists the repository's tags. */
async function registryState(run: Run, access: 'pull' | 'push'): Promise<string[]> {
  const { host } = run.context;
  host.info(
    `registry ${run.target.registry}: ${run.credentials ? `credentials from ${run.credentials.source}` : 'anonymous'}`,
  );
  await run.client.check(run.target.repository, access);
  const existing = await run.client.listTags(run.target.repository);
  host.info(`${run.repository}: ${existing.length} existing tag${existing.length === 1 ? '' : 's'}`);
  return existing;
}

/** Decides what each tag does for `digest`; refuses (before any tag is written) to move a release tag. */
async function checkReleaseTags(
  run: Run,
  metadata: Metadata,
  existing: string[],
  digest: string,
): Promise<TagPlan> {
  const current = await currentDigests(run.client, run.target.repository, metadata.tagNames, existing);
  const plan = planTags(metadata.tagNames, current, digest, run.inputs.overwrite);
  if (plan.conflicts.length > 0 && !run.inputs.overwrite)
    throw overwriteRefusal(run.repository, plan.conflicts);
  for (const conflict of plan.conflicts) {
    run.context.host.warning(
      `release tag ${conflict.tag} moves from ${conflict.existing} to ${conflict.incoming} (overwrite: true)`,
      { title: 'build-image: release tag moved' },
    );
  }
  return plan;
}

/** Writes the tags and logs each one as it lands. */
async function applyTags(run: Run, digest: string, plan: TagPlan): Promise<void> {
  await writeTags(run.client, run.target.repository, digest, plan.write, (tag) =>
    run.context.host.info(`tagged ${run.repository}:${tag} -> ${digest}`),
  );
}

function selectBuilder(name: 'buildx' | 'buildah'): ImageBuilder {
  return name === 'buildx' ? new BuildxBuilder() : new BuildahBuilder();
}

/** The child processes' environment and auth: an auth file for buildah and skopeo, a Docker config for buildx. */
function toolAuth(run: Run, builder: ImageBuilder): { env: NodeJS.ProcessEnv; authFile: string } {
  const entries = new Map<string, RegistryCredentials>();
  if (run.credentials) entries.set(run.target.registry, run.credentials);
  const authFile = writeAuthFile(run.workDir, entries, run.context.env);
  const env = { ...run.context.env };
  if (builder.name === 'buildx')
    env.DOCKER_CONFIG = writeDockerConfigDir(run.workDir, entries, run.context.env);
  return { env, authFile };
}

/** How long the build tool may stay silent before a `still building` line says the step is alive. */
const QUIET_MS = 20_000;

/** Runs the build, streaming its log into a group, with a heartbeat line while the tool is quiet. */
async function buildOnce(run: Run, builder: ImageBuilder, metadata: Metadata): Promise<BuiltImage> {
  const { inputs, context } = run;
  const { host } = context;
  const parsed = parseBuildSecrets(inputs.secrets);
  if (parsed.problems.length > 0) throw new InputError(parsed.problems);
  for (const secret of parsed.secrets) {
    host.secret(secret.value);
    run.secrets.add(secret.value);
  }
  if (builder.name === 'buildah' && (inputs['cache-from'].length > 0 || inputs['cache-to'].length > 0))
    host.info('cache-from and cache-to are buildx options: buildah ignores them and caches layers locally');
  const { env, authFile } = toolAuth(run, builder);
  const epoch = Number(context.env.SOURCE_DATE_EPOCH);
  return host.group(`Build with ${builder.name}`, async () => {
    const progress = new Progress(host, QUIET_MS);
    let step = 'starting';
    let lastLineAt = Date.now();
    const heartbeat = setInterval(() => {
      if (Date.now() - lastLineAt >= QUIET_MS) progress.update(`still building (${step})`);
    }, QUIET_MS / 4);
    try {
      return await builder.build({
        context: inputs.context,
        file: inputs.file,
        target: inputs.target,
        registry: run.target.registry,
        repository: run.repository,
        localTags: metadata.tags,
        labels: metadata.labels,
        annotations: metadata.annotations,
        buildArgs: inputs['build-args'],
        secrets: parsed.secrets,
        platforms: inputs.platforms,
        cacheFrom: inputs['cache-from'],
        cacheTo: inputs['cache-to'],
        push: inputs.push,
        workDir: run.workDir,
        env,
        authFile,
        timestamp: Number.isInteger(epoch) && epoch > 0 ? epoch : undefined,
        signal: context.signal,
        onLine: (line) => {
          lastLineAt = Date.now();
          if (/^(STEP \d+\/\d+|#\d+ \[)/.test(line)) step = line.slice(0, 80);
          host.info(line);
        },
      });
    } finally {
      clearInterval(heartbeat);
    }
  });
}

const REVISION_LABEL = 'org.opencontainers.image.revision';

/**
 * On a re-run of a release job: the image the registry already holds under this run's release tags, when it
 * was built from this very commit. A rebuild would differ (timestamps) and trip the immutable-release check, so
 * the earlier image is the release. Not with `overwrite` (then the user asks for a rebuild) or without push.
 */
async function earlierBuildOfThisCommit(
  run: Run,
  metadata: Metadata,
  existing: string[],
): Promise<{ digest: string; tags: string[]; revision: string } | undefined> {
  const revision = metadata.labels[REVISION_LABEL];
  const tags = metadata.tagNames.filter((tag) => isReleaseTag(tag) && existing.includes(tag));
  if (!run.inputs.push || run.inputs.overwrite || !revision || tags.length === 0) return undefined;
  return run.context.clock.run('re-run check', async () => {
    const digests = new Set<string>();
    for (const tag of tags) {
      const digest = await run.client.manifestDigest(run.target.repository, tag);
      if (digest) digests.add(digest);
    }
    const [digest] = digests;
    if (digests.size !== 1 || !digest) return undefined;
    const built = await imageRevision(run.client, run.target.repository, digest);
    return built === revision ? { digest, tags, revision } : undefined;
  });
}

/** Finishes a re-run with the image built earlier from the same commit: its tags are written again, no build. */
async function reuse(
  run: Run,
  metadata: Metadata,
  existing: string[],
  earlier: { digest: string; tags: string[]; revision: string },
): Promise<ImageReport> {
  const { clock, host } = run.context;
  host.info(
    `release ${earlier.tags.join(', ')} was built from this commit (${earlier.revision}) already, as ` +
      `${earlier.digest}: this is a re-run, so the image is not rebuilt and its tags are written again`,
  );
  clock.skip('build');
  const plan = await clock.run('release check', () =>
    checkReleaseTags(run, metadata, existing, earlier.digest),
  );
  clock.skip('push');
  await clock.run('tag', () => applyTags(run, earlier.digest, plan));
  const description = await clock.run('read back', () =>
    describeImage(run.client, run.target.repository, earlier.digest),
  );
  return {
    mode: 'build',
    repository: run.repository,
    digest: earlier.digest,
    version: metadata.version,
    tags: metadata.tags,
    pushed: true,
    builder: `not rebuilt: the release of commit ${earlier.revision.slice(0, 12)} was already in the registry`,
    plan,
    description,
    metadata,
  };
}

/** Builds, checks release tags, pushes by digest, tags, and reads the result back from the registry. */
async function build(run: Run): Promise<ImageReport> {
  const { inputs, context } = run;
  const { clock, host } = context;
  const chosen = await clock.run('choose builder', async () =>
    chooseBuilder(inputs.builder as BuilderChoice, await probeBuilders(context.env), inputs.push),
  );
  host.info(chosen.reason);
  const builder = selectBuilder(chosen.name);
  const existing = inputs.push
    ? await clock.run('registry check', () => registryState(run, 'push'))
    : await clock.run('registry tags', async () => {
        try {
          return await registryState(run, 'pull');
        } catch (error) {
          host.warning(
            `cannot list the registry's tags (${describeError(error)}): latest=auto treats the repository as empty`,
          );
          return [];
        }
      });
  const metadata = await clock.run('tags', () => metadataFor(run, existing));
  await logMetadata(run, metadata);
  for (const tag of metadata.tagNames) {
    if (isReleaseTag(tag) && existing.includes(tag) && !inputs.overwrite)
      host.info(
        `release tag ${tag} exists already: the push goes ahead only if this build has the same digest`,
      );
  }
  const earlier = await earlierBuildOfThisCommit(run, metadata, existing);
  if (earlier) return reuse(run, metadata, existing, earlier);
  const version = await builder
    .version()
    .catch((error: unknown) => `${builder.name} (version unknown: ${describeError(error)})`);
  const built = await clock.run('build', () => buildOnce(run, builder, metadata));
  host.info(`built ${built.digest}`);
  const report: ImageReport = {
    mode: 'build',
    repository: run.repository,
    digest: built.digest,
    version: metadata.version,
    tags: metadata.tags,
    pushed: inputs.push,
    builder: version,
    metadata,
  };
  if (!inputs.push) {
    for (const phase of ['release check', 'push', 'tag']) clock.skip(phase);
    return report;
  }
  report.plan = await clock.run('release check', () =>
    checkReleaseTags(run, metadata, existing, built.digest),
  );
  await clock.run('push', async () => {
    await host.group('Push', () => built.pushByDigest());
    const readBack = await run.client.manifestDigest(run.target.repository, built.digest);
    if (readBack !== built.digest) {
      throw new GreenlightError({
        what: 'push',
        object: { kind: 'image', name: `${run.repository}@${built.digest}` },
        reason: 'the registry does not hold the pushed digest',
        hint: 'check the registry logs; the push may have been rejected by a policy',
      });
    }
  });
  const plan = report.plan;
  await clock.run('tag', () => applyTags(run, built.digest, plan));
  report.description = await clock.run('read back', () =>
    describeImage(run.client, run.target.repository, built.digest),
  );
  return report;
}

/** Resolves the `source` input to a reference with a digest (a tag is resolved, with a warning). */
async function resolveSource(run: Run, client: RegistryClient): Promise<ImageReference & { digest: string }> {
  const source = parseImageReference(run.inputs.source as string);
  if (source.digest) {
    if (!isDigest(source.digest))
      throw new InputError([`input \`source\` must carry a sha256 digest, got "${source.digest}"`]);
    await requireManifest(client, source.repository, source.digest, 'read the source image');
    return { ...source, digest: source.digest };
  }
  const tag = source.tag ?? 'latest';
  const digest = await client.manifestDigest(source.repository, tag);
  if (!digest) {
    throw new GreenlightError({
      what: 'read the source image',
      object: { kind: 'image', name: formatImageReference({ ...source, tag }) },
      reason: 'the registry has no such tag',
      hint: 'give the source by digest, name@sha256:..., as the build step output `image` prints it',
    });
  }
  run.context.host.warning(
    `source ${formatImageReference(source)} is a tag; using its current digest ${digest}. Pass name@sha256:... to be exact`,
  );
  return { ...source, digest };
}

/** Inputs that only a build reads; a retag cannot apply them without changing the digest. */
const BUILD_ONLY_INPUTS = [
  'file',
  'target',
  'labels',
  'annotations',
  'build-args',
  'secrets',
  'platforms',
  'cache-from',
  'cache-to',
] as const;

/** Gives an existing image new tags, copying it first when it lives in another repository or registry. */
async function retag(run: Run): Promise<ImageReport> {
  const { inputs, context } = run;
  const { clock, host } = context;
  const ignored = BUILD_ONLY_INPUTS.filter((name) => {
    const value = inputs[name];
    return Array.isArray(value) ? value.length > 0 : value !== undefined;
  });
  if (ignored.length > 0) {
    host.warning(
      `${ignored.map((name) => `\`${name}\``).join(', ')} only shape a build; a retag keeps the image exactly as it was built`,
      { title: 'build-image: inputs ignored by mode retag' },
    );
  }
  const sourceRef = parseImageReference(inputs.source as string);
  const sameRegistry = sourceRef.registry === run.target.registry;
  const sourceCredentials =
    inputs['source-username'] || inputs['source-password']
      ? await resolveCredentials(
          sourceRef.registry,
          { username: inputs['source-username'], password: inputs['source-password'] },
          context.env,
        )
      : sameRegistry
        ? run.credentials
        : await resolveCredentials(sourceRef.registry, {}, context.env);
  const sourceClient =
    sameRegistry && sourceCredentials === run.credentials
      ? run.client
      : new RegistryClient(sourceRef.registry, { credentials: sourceCredentials, signal: context.signal });
  const existing = await clock.run('registry check', async () => {
    const tags = await registryState(run, 'push');
    if (sourceClient !== run.client) await sourceClient.check(sourceRef.repository, 'pull');
    return tags;
  });
  const source = await clock.run('read source', () => resolveSource(run, sourceClient));
  const sourceName = formatImageReference({
    registry: source.registry,
    repository: source.repository,
    digest: source.digest,
  });
  host.info(`source ${sourceName}`);
  const metadata = await clock.run('tags', () => metadataFor(run, existing));
  await logMetadata(run, metadata);
  const plan = await clock.run('release check', () =>
    checkReleaseTags(run, metadata, existing, source.digest),
  );
  let copiedBy = 'nothing to copy (same repository)';
  await clock.run('copy', async () => {
    if (sameRegistry && source.repository === run.target.repository) return;
    if (sameRegistry && sourceClient === run.client) {
      if (await copyWithinRegistry(run.client, source.repository, run.target.repository, source.digest)) {
        copiedBy = 'registry API (blobs mounted, no layer moved)';
        return;
      }
      host.info('the registry declined a cross-repository mount: copying with skopeo');
    }
    const entries = new Map<string, RegistryCredentials>();
    if (sourceCredentials) entries.set(source.registry, sourceCredentials);
    const srcAuth = writeAuthFile(run.workDir, entries, context.env);
    const destEntries = new Map<string, RegistryCredentials>();
    if (run.credentials) destEntries.set(run.target.registry, run.credentials);
    const destDir = mkdtempSync(join(run.workDir, 'dest-'));
    const destAuth = writeAuthFile(destDir, destEntries, context.env);
    await host.group('Copy with skopeo', () =>
      skopeoCopy(`docker://${sourceName}`, `docker://${run.repository}@${source.digest}`, {
        workDir: run.workDir,
        srcAuthFile: srcAuth,
        destAuthFile: destAuth,
        srcTlsVerify: !isLoopbackHost(source.registry),
        destTlsVerify: !isLoopbackHost(run.target.registry),
        env: context.env,
        signal: context.signal,
        onLine: (line) => host.info(line),
      }),
    );
    copiedBy = 'skopeo copy (digest preserved)';
  });
  await clock.run('tag', () => applyTags(run, source.digest, plan));
  const description = await clock.run('read back', () =>
    describeImage(run.client, run.target.repository, source.digest),
  );
  return {
    mode: 'retag',
    repository: run.repository,
    digest: source.digest,
    version: metadata.version,
    tags: metadata.tags,
    pushed: true,
    builder: 'registry API',
    source: sourceName,
    copiedBy,
    plan,
    description,
    metadata,
  };
}

/** The action's outputs from a report: digest, image by digest, tags, version, labels and everything as JSON. */
function outputsOf(report: ImageReport): Record<string, string> {
  const metadata = report.metadata;
  const labels = metadata?.labels ?? {};
  const image = report.pushed ? `${report.repository}@${report.digest}` : '';
  return {
    digest: report.digest,
    image,
    tags: report.tags.join('\n'),
    version: report.version,
    labels: Object.entries(labels)
      .map(([name, value]) => `${name}=${value}`)
      .join('\n'),
    json: JSON.stringify({
      mode: report.mode,
      image,
      repository: report.repository,
      digest: report.digest,
      pushed: report.pushed,
      version: report.version,
      tags: report.tags,
      tagNames: metadata?.tagNames ?? [],
      labels,
      annotations: metadata?.annotations ?? {},
      release: metadata?.release,
      versionSource: metadata?.versionSource,
      explanation: metadata?.explanation ?? [],
      builder: report.builder,
      source: report.source,
      size: report.description?.size,
      platforms: report.description?.platforms,
      tagStatus: report.plan,
    }),
  };
}

/** The error for a run the runner cancelled: which phase it stopped in, and that a re-run is safe. */
function cancelled(context: CommandContext, cause: unknown): GreenlightError {
  const phase = context.clock.phases.at(-1);
  return new GreenlightError({
    what: 'build-image',
    reason: `cancelled${phase ? ` during ${phase.name}` : ''}: ${describeError(context.signal.reason ?? cause)}`,
    hint: 'every phase is safe to repeat: re-run the job. Tags are written only after the release check',
    cause,
  });
}

export const buildImage = defineCommand({
  name: 'build-image',
  description: 'Build, tag and push an image, or retag an existing digest without rebuilding',
  inputs: buildImageInputs,
  outputs: ['digest', 'image', 'tags', 'version', 'labels', 'json'],
  async run(inputs, context) {
    const problems = inputProblems(inputs);
    if (problems.length > 0) throw new InputError(problems);
    const target = parseTarget(inputs.image);
    const credentials = await resolveCredentials(
      target.registry,
      { username: inputs.username, password: inputs.password },
      context.env,
    );
    const secrets = new Set<string>(
      [inputs.password, inputs['source-password']].filter((s): s is string => !!s),
    );
    const workDir = mkdtempSync(join(context.env.RUNNER_TEMP || tmpdir(), 'greenlight-build-'));
    chmodSync(workDir, 0o700);
    const run: Run = {
      inputs,
      context,
      target,
      repository: formatImageReference({ registry: target.registry, repository: target.repository }),
      credentials,
      client: new RegistryClient(target.registry, { credentials, signal: context.signal }),
      workDir,
      secrets,
    };
    try {
      const report = inputs.mode === 'retag' ? await retag(run) : await build(run);
      if (inputs.summary) writeReport(context.summary, report, context.clock.phases);
      return outputsOf(report);
    } catch (caught) {
      const error = context.signal.aborted ? cancelled(context, caught) : caught;
      // The end of the tool's log (build, export or copy) goes into the summary, collapsed.
      const tail = error instanceof BuildFailure ? error.tail : [];
      writeFailureReport(context.summary, context.clock.phases, tail, (text) => redact(text, secrets));
      throw error;
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  },
});
