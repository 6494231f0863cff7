import { GreenlightError } from '../runtime/errors.ts';
import { blobsOf, type Descriptor, formatPlatform, imageSize, isIndex, type Manifest } from './manifest.ts';
import type { RegistryClient } from './registry.ts';

/** What the registry holds under a digest: its form and the size of each platform's image. */
export interface ImageDescription {
  digest: string;
  mediaType: string;
  platforms: { platform: string; digest: string; size: number }[];
  /** Bytes as stored: the sum over platforms (layers shared between platforms counted once each). */
  size: number;
}

function missing(what: string, name: string, reason: string, hint: string): GreenlightError {
  return new GreenlightError({ what, object: { kind: 'image', name }, reason, hint });
}

/** Reads a manifest by digest, failing with a message that names the image when it is not there. */
export async function requireManifest(
  client: RegistryClient,
  repository: string,
  digest: string,
  what: string,
): Promise<Manifest> {
  const manifest = await client.getManifest(repository, digest);
  if (!manifest) {
    throw missing(
      what,
      `${client.registry}/${repository}@${digest}`,
      'the registry has no manifest with this digest',
      'check the digest and the repository; a digest is only valid in the repository it was pushed to',
    );
  }
  return manifest;
}

/** Describes the image under `digest` from the registry (never from local state): platforms and sizes. */
export async function describeImage(
  client: RegistryClient,
  repository: string,
  digest: string,
): Promise<ImageDescription> {
  const manifest = await requireManifest(client, repository, digest, 'read the pushed image');
  const platforms: ImageDescription['platforms'] = [];
  if (isIndex(manifest.mediaType)) {
    for (const child of manifest.manifests ?? []) {
      if (child.platform?.os === 'unknown') continue; // attestation manifests that buildx attaches
      const childManifest = await requireManifest(client, repository, child.digest, 'read the pushed image');
      platforms.push({
        platform: formatPlatform(child.platform),
        digest: child.digest,
        size: imageSize(childManifest),
      });
    }
  } else {
    platforms.push({ platform: 'single', digest, size: imageSize(manifest) });
  }
  return {
    digest,
    mediaType: manifest.mediaType,
    platforms,
    size: platforms.reduce((total, p) => total + p.size, 0),
  };
}

/**
 * What each of `tags` points to now, for the immutable-release check. Only tags in `existing` (the repository's
 * tag list) are asked for; the others do not exist yet.
 */
export async function currentDigests(
  client: RegistryClient,
  repository: string,
  tags: readonly string[],
  existing: readonly string[],
): Promise<Map<string, string | undefined>> {
  const present = new Set(existing);
  const current = new Map<string, string | undefined>();
  for (const tag of tags) {
    current.set(tag, present.has(tag) ? await client.manifestDigest(repository, tag) : undefined);
  }
  return current;
}

/**
 * Gives the manifest under `digest` each of `tags` by PUTting its exact bytes (no layer moves), then reads every
 * tag back and fails when the registry reports another digest.
 */
export async function writeTags(
  client: RegistryClient,
  repository: string,
  digest: string,
  tags: readonly string[],
  onTag?: (tag: string) => void,
): Promise<void> {
  if (tags.length === 0) return;
  const manifest = await requireManifest(client, repository, digest, 'tag the image');
  for (const tag of tags) {
    await client.putManifest(repository, tag, manifest);
    const readBack = await client.manifestDigest(repository, tag);
    if (readBack !== digest) {
      throw missing(
        'tag the image',
        `${client.registry}/${repository}:${tag}`,
        `after the push the registry reports ${readBack ?? 'no manifest'} for the tag, expected ${digest}`,
        'another job may be pushing the same tag at once: serialise releases with a concurrency group',
      );
    }
    onTag?.(tag);
  }
}

/** Mounts the blobs of one single-platform manifest; false as soon as the registry declines one. */
async function mountAll(
  client: RegistryClient,
  to: string,
  from: string,
  blobs: Descriptor[],
): Promise<boolean> {
  for (const blob of blobs) {
    if (await client.hasBlob(to, blob.digest)) continue;
    if (!(await client.mountBlob(to, blob.digest, from))) return false;
  }
  return true;
}

/**
 * Copies the image under `digest` from one repository to another of the same registry by the registry API:
 * blobs are mounted across repositories (no layer is downloaded) and manifests are PUT by digest, children of an
 * index first. Returns false when the registry declines a mount; the caller then copies with skopeo.
 */
export async function copyWithinRegistry(
  client: RegistryClient,
  from: string,
  to: string,
  digest: string,
): Promise<boolean> {
  const manifest = await requireManifest(client, from, digest, 'read the source image');
  if (isIndex(manifest.mediaType)) {
    for (const child of manifest.manifests ?? []) {
      const childManifest = await requireManifest(client, from, child.digest, 'read the source image');
      if (!(await mountAll(client, to, from, blobsOf(childManifest)))) return false;
      await client.putManifest(to, child.digest, childManifest);
    }
  } else if (!(await mountAll(client, to, from, blobsOf(manifest)))) {
    return false;
  }
  await client.putManifest(to, digest, manifest);
  return true;
}

const REVISION = 'org.opencontainers.image.revision';

/**
 * The commit an image was built from, as its OCI revision annotation or label says (for an index, its first
 * platform's). Undefined when the image does not say.
 */
export async function imageRevision(
  client: RegistryClient,
  repository: string,
  digest: string,
): Promise<string | undefined> {
  let manifest = await client.getManifest(repository, digest);
  if (manifest?.annotations?.[REVISION]) return manifest.annotations[REVISION];
  if (manifest && isIndex(manifest.mediaType)) {
    const first = manifest.manifests?.find((child) => child.platform?.os !== 'unknown');
    manifest = first ? await client.getManifest(repository, first.digest) : undefined;
    if (manifest?.annotations?.[REVISION]) return manifest.annotations[REVISION];
  }
  if (!manifest?.config) return undefined;
  const config = (await client.getJsonBlob(repository, manifest.config.digest)) as
    | { config?: { Labels?: Record<string, string> | null } }
    | undefined;
  return config?.config?.Labels?.[REVISION];
}
