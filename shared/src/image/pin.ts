// Pins image references given by tag to the digest the registry holds for that tag now, so that a deploy runs and
// records one exact image whatever happens to the tag afterwards.
import { describeError, GreenlightError } from '../runtime/errors.ts';
import { resolveCredentials } from './auth.ts';
import { formatImageReference, type ImageReference, parseImageReference } from './reference.ts';
import { RegistryClient } from './registry.ts';

/** One reference after pinning: as given, and as it is to be deployed. */
export interface PinnedImage {
  /** The reference as given, e.g. `registry:5000/shop/api:1.0`. */
  given: string;
  /** `name@sha256:...`: the given text itself when it already carried a digest. */
  pinned: string;
  /** The tag that was read (`latest` when none was given); undefined when the reference had a digest. */
  tag?: string;
}

/** A reference that could not be pinned, and why. */
export interface PinFailure {
  given: string;
  /** What went wrong: the tag does not exist, or the registry could not be read (unreachable, refused). */
  reason: string;
  /** True when the registry answered that it has no such tag (the other failures are about the registry). */
  missing: boolean;
}

export interface PinOptions {
  /** For the Docker config and credential helpers (DOCKER_CONFIG, HOME, REGISTRY_AUTH_FILE). */
  env: NodeJS.ProcessEnv;
  /** Aborts every registry request (job cancelled). */
  signal?: AbortSignal;
  /** Deadline for one registry request, 30 s by default. */
  timeoutMs?: number;
}

/**
 * Pins each reference without a digest to the digest its tag (`latest` when it has none) points to, with a HEAD of
 * the manifest that accepts image indexes and manifests alike. The registry is read with the machine's login for
 * it (Docker config, credential helper, containers auth file; anonymous without one), over plain HTTP on
 * loopback. References that carry a digest are kept as given and cost no request. Each reference is parsed with
 * parseImageReference, which throws for malformed text: validate before calling. Throws only for cancellation.
 */
export async function pinImages(
  references: readonly string[],
  options: PinOptions,
): Promise<{ images: PinnedImage[]; failures: PinFailure[] }> {
  const clients = new Map<string, Promise<RegistryClient>>();
  const clientFor = (registry: string): Promise<RegistryClient> => {
    let client = clients.get(registry);
    if (!client) {
      client = resolveCredentials(registry, {}, options.env).then(
        (credentials) =>
          new RegistryClient(registry, { credentials, signal: options.signal, timeoutMs: options.timeoutMs }),
      );
      clients.set(registry, client);
    }
    return client;
  };
  const outcomes = await Promise.all(
    references.map(async (given): Promise<PinnedImage | PinFailure> => {
      const ref = parseImageReference(given);
      if (ref.digest) return { given, pinned: given };
      const tag = ref.tag ?? 'latest';
      let digest: string | undefined;
      try {
        const client = await clientFor(ref.registry);
        digest = await client.manifestDigest(ref.repository, tag);
      } catch (error) {
        if (options.signal?.aborted) throw error;
        const reason = error instanceof GreenlightError ? error.reason : describeError(error);
        return { given, reason, missing: false };
      }
      const name = repositoryOf(ref);
      if (!digest) return { given, reason: `${name} has no tag "${tag}"`, missing: true };
      return { given, pinned: `${name}@${digest}`, tag };
    }),
  );
  const images: PinnedImage[] = [];
  const failures: PinFailure[] = [];
  for (const outcome of outcomes) {
    if ('pinned' in outcome) images.push(outcome);
    else failures.push(outcome);
  }
  return { images, failures };
}

/** The repository of a reference as people write it (`nginx`, `registry:5000/shop/api`), without tag or digest. */
function repositoryOf(ref: ImageReference): string {
  return formatImageReference({ registry: ref.registry, repository: ref.repository }, { familiar: true });
}
