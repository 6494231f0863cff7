import { createHash } from 'node:crypto';

/** Manifest media types a registry may hold for an image: single-platform manifests and indexes (lists). */
export const MEDIA_TYPES = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
} as const;

/** The Accept header for manifest requests: every form we can read, so the registry never converts. */
export const MANIFEST_ACCEPT = Object.values(MEDIA_TYPES).join(', ');

/** A content descriptor as manifests carry them. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os: string; architecture: string; variant?: string };
  annotations?: Record<string, string>;
}

/** A manifest as read from the registry: its exact bytes (retagging PUTs them back unchanged) and its parts. */
export interface Manifest {
  mediaType: string;
  digest: string;
  bytes: Buffer;
  /** Set for an index or list: one entry per platform. */
  manifests?: Descriptor[];
  /** Set for a single-platform manifest. */
  config?: Descriptor;
  layers?: Descriptor[];
  /** The manifest's own annotations. */
  annotations?: Record<string, string>;
}

/** The sha256 digest of bytes, `sha256:<hex>`. */
export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** True for a well-formed sha256 digest. */
export function isDigest(text: string): boolean {
  return /^sha256:[a-f0-9]{64}$/.test(text);
}

/** True when the media type is an index or manifest list. */
export function isIndex(mediaType: string): boolean {
  return mediaType === MEDIA_TYPES.ociIndex || mediaType === MEDIA_TYPES.dockerList;
}

/**
 * Parses manifest bytes. `contentType` is the registry's Content-Type header; the manifest's own `mediaType`
 * field wins when present. Throws on bytes that are not a manifest.
 */
export function parseManifest(bytes: Buffer, contentType: string | undefined, digest?: string): Manifest {
  const body = JSON.parse(bytes.toString('utf8')) as {
    mediaType?: string;
    schemaVersion?: number;
    manifests?: Descriptor[];
    config?: Descriptor;
    layers?: Descriptor[];
    annotations?: Record<string, string>;
  };
  if (body.schemaVersion !== 2) {
    throw new Error(`unsupported manifest schema version ${String(body.schemaVersion)}`);
  }
  const declared = contentType?.split(';')[0]?.trim();
  const mediaType =
    body.mediaType ??
    (declared && declared !== 'application/json' ? declared : undefined) ??
    (body.manifests ? MEDIA_TYPES.ociIndex : MEDIA_TYPES.ociManifest);
  const manifest: Manifest = { mediaType, digest: digest ?? sha256Digest(bytes), bytes };
  if (body.manifests) manifest.manifests = body.manifests;
  if (body.config) manifest.config = body.config;
  if (body.layers) manifest.layers = body.layers;
  if (body.annotations) manifest.annotations = body.annotations;
  return manifest;
}

/** The blobs a single-platform manifest refers to: its config, then its layers. */
export function blobsOf(manifest: Manifest): Descriptor[] {
  return [...(manifest.config ? [manifest.config] : []), ...(manifest.layers ?? [])];
}

/** The size of a single-platform image as pushed: config plus compressed layers, in bytes. */
export function imageSize(manifest: Manifest): number {
  return blobsOf(manifest).reduce((total, blob) => total + blob.size, 0);
}

/** Formats a byte count for people: `812 B`, `4.2 MiB`. */
export function formatImageSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** A platform descriptor as `os/arch[/variant]`. */
export function formatPlatform(platform: Descriptor['platform']): string {
  if (!platform) return 'unknown';
  return [platform.os, platform.architecture, platform.variant].filter(Boolean).join('/');
}
