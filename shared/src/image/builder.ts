import { existsSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { GreenlightError } from '../runtime/errors.ts';
import { runTool } from './process.ts';

export type BuilderName = 'buildx' | 'buildah';
export type BuilderChoice = BuilderName | 'auto';

/** A build secret: `id` as the Dockerfile's `RUN --mount=type=secret,id=...` names it. Never logged. */
export interface BuildSecret {
  id: string;
  value: string;
}

/** Everything a builder needs for one build; both builders take the same request. */
export interface BuildRequest {
  /** The build context folder. */
  context: string;
  /** The Dockerfile; default `Dockerfile` in the context. */
  file?: string;
  target?: string;
  /** The registry host (and port) the image is pushed to. */
  registry: string;
  /** The repository the image is pushed to, `registry/path/name` (buildx pushes by digest to it). */
  repository: string;
  /** Full references to tag the local image with when it is not pushed (`--load` for buildx). */
  localTags: string[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** `NAME=value` lines. */
  buildArgs: string[];
  secrets: BuildSecret[];
  platforms: string[];
  cacheFrom: string[];
  cacheTo: string[];
  push: boolean;
  /** A private folder (mode 0700) for secret files, the OCI layout and metadata files. */
  workDir: string;
  /** The child processes' environment, with the auth file or Docker config the tools must read. */
  env: NodeJS.ProcessEnv;
  /** A containers auth file (0600) for buildah and skopeo. */
  authFile?: string;
  /** Unix seconds for reproducible timestamps (SOURCE_DATE_EPOCH). */
  timestamp?: number;
  signal?: AbortSignal;
  /** Each output line of the build, as it arrives. */
  onLine?: (line: string) => void;
}

/** The result of a build: the manifest digest it has (or will have once pushed) and how to push it. */
export interface BuiltImage {
  /** The manifest digest (an index digest for several platforms), `sha256:...`. */
  digest: string;
  /** Pushes the image to the request's repository by digest, without a tag. A no-op when already there. */
  pushByDigest(): Promise<void>;
  /** The last lines of the build output. */
  tail: string[];
}

/** A tool that builds images: `docker buildx` or `buildah`, behind the same request and result. */
export interface ImageBuilder {
  readonly name: BuilderName;
  /** The tool's version line, for the summary. */
  version(): Promise<string>;
  build(request: BuildRequest): Promise<BuiltImage>;
}

/** The failure of a build tool, with the tail of its output kept for the job summary. */
export class BuildFailure extends GreenlightError {
  readonly tail: string[];

  constructor(fields: ConstructorParameters<typeof GreenlightError>[0], tail: string[]) {
    super(fields);
    this.name = 'BuildFailure';
    this.tail = tail;
  }
}

/** Runs a probe command and says whether it succeeded within a few seconds. */
async function answers(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<boolean> {
  try {
    const result = await runTool(command, args, { env, signal: AbortSignal.timeout(15_000), tailLines: 5 });
    return result.code === 0;
  } catch {
    // Not installed (ENOENT) or no answer in time: this tool is not available here.
    return false;
  }
}

/** What the machine offers: a Docker engine with buildx (and the driver of its active builder), and buildah. */
export interface BuilderProbe {
  dockerEngine: boolean;
  buildx: boolean;
  /** The driver of the active buildx builder: `docker`, `docker-container`, `kubernetes`, `remote`. */
  buildxDriver?: string;
  buildah: boolean;
}

/** The driver of the active builder from `docker buildx inspect` output (`Driver: docker-container`). */
export function parseBuildxDriver(text: string): string | undefined {
  return /^Driver:\s+(\S+)/m.exec(text)?.[1];
}

/** Probes for a Docker engine that answers (`docker version` reaching the server), buildx and buildah. */
export async function probeBuilders(env: NodeJS.ProcessEnv): Promise<BuilderProbe> {
  const [dockerEngine, buildah] = await Promise.all([
    answers('docker', ['version', '--format', '{{.Server.Version}}'], env),
    answers('buildah', ['--version'], env),
  ]);
  const buildx = dockerEngine && (await answers('docker', ['buildx', 'version'], env));
  const probe: BuilderProbe = { dockerEngine, buildx, buildah };
  if (buildx) {
    const inspect = await runTool('docker', ['buildx', 'inspect'], {
      env,
      captureStdout: true,
      signal: AbortSignal.timeout(15_000),
    }).catch(() => undefined);
    const driver = inspect?.code === 0 ? parseBuildxDriver(inspect.stdout) : undefined;
    if (driver) probe.buildxDriver = driver;
  }
  return probe;
}

const DOCKER_DRIVER =
  'the active buildx builder uses the `docker` driver, which cannot push an image by digest before tagging it';

/**
 * Picks the builder for `choice` from what the probe found: `auto` takes buildx when a Docker engine with buildx
 * answers (and, to push, its builder is not the plain `docker` driver), else buildah. A forced builder that cannot
 * do the job is an error that says what to install or add.
 */
export function chooseBuilder(
  choice: BuilderChoice,
  probe: BuilderProbe,
  push = true,
): { name: BuilderName; reason: string } {
  const missingBuildx = !probe.dockerEngine
    ? 'no Docker engine answers (`docker version` cannot reach a daemon)'
    : !probe.buildx
      ? 'the Docker engine answers but the buildx plugin is missing'
      : DOCKER_DRIVER;
  const buildxUsable = probe.buildx && !(push && probe.buildxDriver === 'docker');
  if (choice === 'buildx') {
    if (buildxUsable) return { name: 'buildx', reason: 'builder: buildx (forced)' };
    throw new GreenlightError({
      what: 'choose builder',
      reason: `input \`builder\` is buildx but ${missingBuildx}`,
      hint: probe.buildx
        ? 'add docker/setup-buildx-action before this step (it creates a docker-container builder), or set `builder: buildah`'
        : 'run on a runner with Docker (and docker/setup-buildx-action), or set `builder: buildah`',
    });
  }
  if (choice === 'buildah') {
    if (probe.buildah) return { name: 'buildah', reason: 'builder: buildah (forced)' };
    throw new GreenlightError({
      what: 'choose builder',
      reason: 'input `builder` is buildah but `buildah` is not installed',
      hint: 'install buildah (apt-get install buildah), or set `builder: buildx` on a runner with Docker',
    });
  }
  if (buildxUsable) return { name: 'buildx', reason: 'builder: buildx (auto: a Docker engine answers)' };
  if (probe.buildah) return { name: 'buildah', reason: `builder: buildah (auto: ${missingBuildx})` };
  throw new GreenlightError({
    what: 'choose builder',
    reason: `no builder found: ${missingBuildx}, and \`buildah\` is not installed`,
    hint: probe.buildx
      ? 'add docker/setup-buildx-action before this step, or install buildah'
      : 'use a runner with Docker (GitHub-hosted runners have it), or install buildah',
  });
}

/**
 * Parses the `secrets` input, `id=value` one a line (the value may contain `=`). Problems name the line number
 * and never the value.
 */
export function parseBuildSecrets(lines: readonly string[]): { secrets: BuildSecret[]; problems: string[] } {
  const secrets: BuildSecret[] = [];
  const problems: string[] = [];
  lines.forEach((line, index) => {
    const eq = line.indexOf('=');
    const id = eq > 0 ? line.slice(0, eq).trim() : '';
    if (!/^[A-Za-z0-9_.-]+$/.test(id)) {
      problems.push(
        `input \`secrets\` line ${index + 1} must be id=value with an id of letters, digits, . _ -`,
      );
      return;
    }
    if (secrets.some((s) => s.id === id)) {
      problems.push(`input \`secrets\` line ${index + 1} repeats the id "${id}"`);
      return;
    }
    secrets.push({ id, value: line.slice(eq + 1) });
  });
  return { secrets, problems };
}

/** Collapses whitespace and drops a trailing line continuation, to compare Dockerfile text with a log line. */
function normalizeInstruction(text: string): string {
  return text
    .replace(/\\\s*$/, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * The Dockerfile line of the step that failed, from the tool's log tail: buildx prints `Dockerfile:12`; buildah
 * prints `STEP 3/5: RUN ...` before the step's output, which is matched against the file's lines. Undefined when
 * the log does not tell.
 */
export function failedStepLine(dockerfile: string, tail: readonly string[]): number | undefined {
  for (let i = tail.length - 1; i >= 0; i--) {
    const located = /^\s*(?:\S*\/)?(?:Dockerfile|Containerfile)[^\s:/]*:(\d+)\s*$/.exec(tail[i] as string);
    if (located) return Number(located[1]);
  }
  let instruction: string | undefined;
  for (let i = tail.length - 1; i >= 0 && instruction === undefined; i--) {
    instruction = /^STEP \d+(?:\/\d+)?: (.+)$/.exec(tail[i] as string)?.[1];
  }
  if (!instruction) return undefined;
  const wanted = normalizeInstruction(instruction);
  const lines = dockerfile.split(/\r?\n/);
  // An instruction on one line matches whole; one continued over several lines matches by its first line.
  const exact = lines.findIndex((line) => normalizeInstruction(line) === wanted);
  if (exact >= 0) return exact + 1;
  const continued = lines.findIndex(
    (line) => /\\\s*$/.test(line) && wanted.startsWith(normalizeInstruction(line)),
  );
  return continued >= 0 ? continued + 1 : undefined;
}

/**
 * Where a failed build points in the repository: the Dockerfile (relative to the workspace, as annotations want
 * it) and the line of the failing step when the log tells. Used to annotate the Dockerfile on pull requests.
 */
export function failureLocation(
  request: BuildRequest,
  tail: readonly string[],
): { file: string; line?: number } {
  const candidates = request.file
    ? [request.file]
    : [join(request.context, 'Containerfile'), join(request.context, 'Dockerfile')];
  const path = candidates.find((candidate) => existsSync(candidate)) ?? candidates.at(-1) ?? 'Dockerfile';
  const workspace = request.env.GITHUB_WORKSPACE || process.cwd();
  const file = relative(workspace, resolve(path));
  const shown = file.startsWith('..') ? resolve(path) : file;
  if (!existsSync(path)) return { file: shown };
  const line = failedStepLine(readFileSync(path, 'utf8'), tail);
  return line === undefined ? { file: shown } : { file: shown, line };
}
