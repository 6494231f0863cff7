// Image references in the grammar of the distribution project (the one Docker, containerd and every registry
// client share): `[registry[:port]/]path[:tag][@algorithm:hex]`, with Docker Hub normalisation.
import { GreenlightError } from '../runtime/errors.ts';

/** A parsed image reference. `registry` is `docker.io` after normalisation, or a host with an optional port. */
export interface ImageReference {
  registry: string;
  /** The path inside the registry, e.g. `library/nginx` or `shop/api`. */
  repository: string;
  tag?: string;
  /** `algorithm:hex`, e.g. `sha256:` and 64 lowercase hex digits. */
  digest?: string;
}

/** Docker Hub, as references are normalised to. */
export const DOCKER_HUB = 'docker.io';
/** The longest a repository name (registry and path) may be. */
export const NAME_TOTAL_LENGTH_MAX = 255;
/** The longest a tag may be. */
export const TAG_LENGTH_MAX = 128;

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const HOST = new RegExp(
  `^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`,
);
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const IDENTIFIER = /^[a-f0-9]{64}$/;
/** Hex lengths of the digest algorithms registries accept. */
const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

function fail(text: string, reason: string, hint?: string): never {
  throw new GreenlightError({
    what: `image reference "${text}"`,
    reason,
    hint: hint ?? 'write it as [registry[:port]/]path[:tag][@sha256:<64 hex digits>], in lower case',
  });
}

/** True when `tag` is a valid Docker tag: word characters, `.` and `-`, not starting with `.` or `-`, <= 128. */
export function isValidTag(tag: string): boolean {
  return TAG.test(tag);
}

/** Explains why `digest` is not a usable digest, or returns undefined when it is one. */
export function digestProblem(digest: string): string | undefined {
  if (!DIGEST.test(digest)) {
    return `digest "${digest}" is not of the form algorithm:hex (e.g. sha256: and 64 hex digits)`;
  }
  const [algorithm, hex] = digest.split(':') as [string, string];
  const length = DIGEST_HEX_LENGTH[algorithm];
  if (length === undefined) {
    return `digest algorithm "${algorithm}" is not supported (use ${Object.keys(DIGEST_HEX_LENGTH).join(', ')})`;
  }
  if (hex.length !== length)
    return `a ${algorithm} digest has ${length} hex digits, this one has ${hex.length}`;
  if (hex !== hex.toLowerCase()) return `the hex digits of digest "${digest}" must be lower case`;
  return undefined;
}

/** Explains why one path component is invalid, naming the character that breaks the grammar. */
function componentProblem(component: string): string {
  if (component === '') return 'it has an empty path component (two slashes in a row, or a slash at an end)';
  const upper = /[A-Z]/.exec(component);
  if (upper) return `repository names must be lower case, "${component}" has "${upper[0]}"`;
  const bad = /[^a-z0-9._-]/.exec(component);
  if (bad) return `"${bad[0]}" is not allowed in the path component "${component}"`;
  return `the path component "${component}" must start and end with a letter or digit and use ".", "_", "__" or dashes only between them`;
}

/**
 * Parses an image reference as the distribution grammar defines it and normalises it as Docker does: no
 * registry means `docker.io`, a single Docker Hub path gets `library/`, `index.docker.io` becomes `docker.io`.
 * The first path component is a registry only when it has a `.` or a `:` (a port), is `localhost`, or has upper
 * case letters, so `localhost:5000/app` is a registry with a port and never a tag. Throws a GreenlightError saying
 * what is wrong and where.
 */
export function parseImageReference(text: string): ImageReference {
  if (text === '') fail(text, 'it is empty');
  const space = /\s/.exec(text);
  if (space) fail(text, `it contains white space at character ${space.index + 1}`);
  if (IDENTIFIER.test(text)) {
    fail(text, 'a 64-digit hexadecimal string is an image ID, not a repository name');
  }

  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    const problem = digestProblem(digest);
    if (problem) fail(text, `${problem} (after the "@" at character ${at + 1})`);
  }

  let tag: string | undefined;
  const lastColon = rest.lastIndexOf(':');
  if (lastColon > rest.lastIndexOf('/')) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!isValidTag(tag)) {
      const why =
        tag === ''
          ? 'the tag after ":" is empty'
          : tag.length > TAG_LENGTH_MAX
            ? `the tag is ${tag.length} characters long, the limit is ${TAG_LENGTH_MAX}`
            : `the tag "${tag}" must start with a letter, digit or "_" and hold only those, "." and "-"`;
      fail(text, `${why} (character ${lastColon + 2})`);
    }
  }

  if (rest === '') fail(text, 'it has no repository name');
  if (rest.length > NAME_TOTAL_LENGTH_MAX) {
    fail(
      text,
      `the repository name is ${rest.length} characters long, the limit is ${NAME_TOTAL_LENGTH_MAX}`,
    );
  }

  let registry = DOCKER_HUB;
  let path = rest;
  const slash = rest.indexOf('/');
  if (slash !== -1) {
    const first = rest.slice(0, slash);
    const isRegistry = /[.:]/.test(first) || first === 'localhost' || first !== first.toLowerCase();
    if (isRegistry) {
      if (!HOST.test(first)) {
        fail(text, `"${first}" is not a valid registry host (name or IP, with an optional :port)`);
      }
      registry = first === 'index.docker.io' ? DOCKER_HUB : first;
      path = rest.slice(slash + 1);
    }
  }

  let offset = rest.length - path.length;
  for (const component of path.split('/')) {
    if (!PATH_COMPONENT.test(component)) {
      fail(text, `${componentProblem(component)} (at character ${offset + 1})`);
    }
    offset += component.length + 1;
  }
  if (registry === DOCKER_HUB && !path.includes('/')) path = `library/${path}`;

  const reference: ImageReference = { registry, repository: path };
  if (tag !== undefined) reference.tag = tag;
  if (digest !== undefined) reference.digest = digest;
  return reference;
}

/** `registry/repository` of a reference, without tag or digest (`docker.io/library/nginx`). */
export function repositoryName(ref: ImageReference, options: { familiar?: boolean } = {}): string {
  if (options.familiar && ref.registry === DOCKER_HUB) {
    const parts = ref.repository.split('/');
    return parts.length === 2 && parts[0] === 'library' ? (parts[1] as string) : ref.repository;
  }
  return `${ref.registry}/${ref.repository}`;
}

/**
 * Formats a reference: `docker.io/library/nginx:1.27@sha256:...` in full, or with `familiar` the short form
 * people type (`nginx:1.27`), which drops `docker.io/` and `library/`.
 */
export function formatImageReference(ref: ImageReference, options: { familiar?: boolean } = {}): string {
  let text = repositoryName(ref, options);
  if (ref.tag !== undefined) text += `:${ref.tag}`;
  if (ref.digest !== undefined) text += `@${ref.digest}`;
  return text;
}

/** Parses and re-formats a reference in full normalised form (`nginx` -> `docker.io/library/nginx`). */
export function normalizeImageReference(text: string): string {
  return formatImageReference(parseImageReference(text));
}
