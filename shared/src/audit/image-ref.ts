/** An image reference split the way registries read it: registry (with port), repository, tag, digest. */
export interface ImageRef {
  /** The registry host, with its port; `docker.io` when the reference names none. */
  registry: string;
  /** The repository path inside the registry (`library/nginx` for `nginx`). */
  repository: string;
  tag?: string;
  digest?: string;
  /** The text as written. */
  raw: string;
}

/**
 * Parses an image reference (`nginx`, `nginx:1.27`, `registry:5000/team/app:1.2@sha256:...`). The first path
 * component is a registry only when it holds a dot or a colon or is `localhost`, so a registry port is never
 * mistaken for a tag. Returns undefined for an empty or malformed reference.
 */
export function parseImageRef(raw: string): ImageRef | undefined {
  const text = raw.trim();
  if (text === '' || /\s/.test(text)) return undefined;
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!/^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-fA-F0-9]{32,}$/.test(digest)) return undefined;
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.indexOf(':', lastSlash + 1);
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!/^[\w][\w.-]{0,127}$/.test(tag)) return undefined;
  }
  const parts = rest.split('/');
  let registry = 'docker.io';
  const first = parts[0] ?? '';
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    registry = first;
    parts.shift();
  }
  if (parts.length === 0 || parts.some((part) => part === '')) return undefined;
  let repository = parts.join('/');
  if (registry === 'docker.io' && parts.length === 1) repository = `library/${repository}`;
  return { registry, repository, tag, digest, raw: text };
}

/** True when `image` falls under an allowed registry entry: a host (`ghcr.io`) or a host and path prefix (`ghcr.io/acme`). */
export function registryAllowed(image: ImageRef, allowed: readonly string[]): boolean {
  const full = `${image.registry}/${image.repository}`;
  return allowed.some((entry) => {
    const normalised = entry.replace(/\/+$/, '');
    return full === normalised || full.startsWith(`${normalised}/`) || image.registry === normalised;
  });
}
