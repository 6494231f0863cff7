import { type ImageReference, parseImageReference } from '../image/reference.ts';
import { GreenlightError } from '../runtime/errors.ts';

/** An image reference as the audit reads it: the parsed parts (see image/reference.ts) and the text as written. */
export interface ImageRef extends ImageReference {
  raw: string;
}

/** Reads an image reference; a malformed one gives the reason instead. */
export function readImageRef(
  raw: string,
): { ref: ImageRef; problem?: undefined } | { ref?: undefined; problem: string } {
  try {
    return { ref: { ...parseImageReference(raw.trim()), raw } };
  } catch (error) {
    if (!(error instanceof GreenlightError)) throw error;
    return { problem: error.reason };
  }
}

/** The parsed reference, or undefined when it is malformed (the image rules report that). */
export function parseImageRef(raw: string): ImageRef | undefined {
  return readImageRef(raw).ref;
}

/** True when `image` falls under an allowed registry entry: a host (`ghcr.io`) or a host and path prefix (`ghcr.io/acme`). */
export function registryAllowed(image: ImageRef, allowed: readonly string[]): boolean {
  const full = `${image.registry}/${image.repository}`;
  return allowed.some((entry) => {
    const normalised = entry.replace(/\/+$/, '');
    return full === normalised || full.startsWith(`${normalised}/`) || image.registry === normalised;
  });
}
