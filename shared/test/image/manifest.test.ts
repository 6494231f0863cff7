import { describe, expect, it } from 'vitest';
import {
  formatImageSize,
  formatPlatform,
  imageSize,
  isDigest,
  isIndex,
  MEDIA_TYPES,
  parseManifest,
  sha256Digest,
} from '../../src/image/manifest.ts';

const d = (c: string) => `sha256:${c.repeat(64)}`;

const single = {
  schemaVersion: 2,
  mediaType: MEDIA_TYPES.ociManifest,
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: d('a'), size: 500 },
  layers: [
    { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: d('b'), size: 1000 },
    { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: d('c'), size: 2500 },
  ],
};
const index = {
  schemaVersion: 2,
  manifests: [
    {
      mediaType: MEDIA_TYPES.ociManifest,
      digest: d('d'),
      size: 700,
      platform: { os: 'linux', architecture: 'amd64' },
    },
    {
      mediaType: MEDIA_TYPES.ociManifest,
      digest: d('e'),
      size: 700,
      platform: { os: 'linux', architecture: 'arm', variant: 'v7' },
    },
  ],
};

describe('parseManifest', () => {
  it.each([
    ['an OCI manifest by its own mediaType', single, undefined, MEDIA_TYPES.ociManifest],
    [
      'a Docker manifest by Content-Type',
      { ...single, mediaType: undefined },
      MEDIA_TYPES.dockerManifest,
      MEDIA_TYPES.dockerManifest,
    ],
    ['an index without mediaType', index, 'application/json', MEDIA_TYPES.ociIndex],
    ['a manifest without any type', { ...single, mediaType: undefined }, undefined, MEDIA_TYPES.ociManifest],
  ])('%s', (_name, body, contentType, mediaType) => {
    const bytes = Buffer.from(JSON.stringify(body));
    const manifest = parseManifest(bytes, contentType, undefined);
    expect(manifest.mediaType).toBe(mediaType);
    expect(manifest.digest).toBe(sha256Digest(bytes));
    expect(manifest.bytes.equals(bytes)).toBe(true);
  });

  it('keeps the digest the registry reported', () => {
    expect(parseManifest(Buffer.from(JSON.stringify(single)), undefined, d('f')).digest).toBe(d('f'));
  });

  it('keeps the manifest annotations', () => {
    const body = { ...single, annotations: { 'org.opencontainers.image.revision': 'abc' } };
    expect(parseManifest(Buffer.from(JSON.stringify(body)), undefined).annotations).toEqual({
      'org.opencontainers.image.revision': 'abc',
    });
  });

  it('rejects schema version 1', () => {
    expect(() => parseManifest(Buffer.from('{"schemaVersion":1}'), undefined)).toThrow(/schema version 1/);
  });
});

describe('sizes and names', () => {
  it('sums config and layers', () => {
    expect(imageSize(parseManifest(Buffer.from(JSON.stringify(single)), undefined))).toBe(4000);
  });

  it.each([
    [0, '0 B'],
    [812, '812 B'],
    [1024, '1.0 KiB'],
    [4.2 * 1024 * 1024, '4.2 MiB'],
    [150 * 1024 * 1024, '150 MiB'],
    [3 * 1024 ** 3, '3.0 GiB'],
  ])('formatImageSize(%d) = %s', (bytes, text) => {
    expect(formatImageSize(bytes)).toBe(text);
  });

  it.each([
    [{ os: 'linux', architecture: 'amd64' }, 'linux/amd64'],
    [{ os: 'linux', architecture: 'arm', variant: 'v7' }, 'linux/arm/v7'],
    [undefined, 'unknown'],
  ])('formatPlatform(%j) = %s', (platform, text) => {
    expect(formatPlatform(platform)).toBe(text);
  });

  it.each([
    [d('a'), true],
    [`sha256:${'A'.repeat(64)}`, false],
    ['sha256:abc', false],
    [`sha512:${'a'.repeat(64)}`, false],
  ])('isDigest(%s) = %s', (text, ok) => {
    expect(isDigest(text)).toBe(ok);
  });

  it.each([
    [MEDIA_TYPES.ociIndex, true],
    [MEDIA_TYPES.dockerList, true],
    [MEDIA_TYPES.ociManifest, false],
    [MEDIA_TYPES.dockerManifest, false],
  ])('isIndex(%s) = %s', (type, result) => {
    expect(isIndex(type)).toBe(result);
  });
});
