import { parseImageRef, readImageRef, registryAllowed } from '../image-ref.ts';
import { containerLabel, containersOf, defineRule, report } from './helpers.ts';

export const imageRules = [
  defineRule({
    id: 'GL-IMG-001',
    family: 'images',
    title: 'Image tag is latest or missing',
    severity: 'error',
    mode: 'both',
    why: '`latest` (or no tag) is a different image on every pull: rollbacks do not roll back and two pods of one release may run different code.',
    fix: 'Use an immutable version tag or, better, pin the digest (`image@sha256:...`).',
    *check(context) {
      for (const { workload, entry, container } of containersOf(context, { init: true })) {
        const image = container.image ?? '';
        const { ref, problem } = readImageRef(image);
        if (!ref) {
          yield report(
            workload.target,
            [...entry.path, 'image'],
            `${containerLabel(entry)} has an image reference that cannot be read ("${image}"): ${problem}`,
          );
          continue;
        }
        if (ref.digest) continue;
        if (ref.tag === undefined || ref.tag === 'latest') {
          yield report(
            workload.target,
            [...entry.path, 'image'],
            `${containerLabel(entry)} uses ${ref.tag === undefined ? 'no tag' : 'the latest tag'} (${image})`,
          );
        }
      }
    },
  }),
  defineRule({
    id: 'GL-IMG-002',
    family: 'images',
    title: 'Image pinned by digest in production',
    severity: 'warning',
    mode: 'both',
    why: 'A tag can be moved; only a digest guarantees production runs the exact image that was tested in staging.',
    fix: 'Deploy `image@sha256:...` (build-image outputs the digest); set `production: true` in the audit config for production manifests.',
    *check(context) {
      if (!context.config.production) return;
      for (const { workload, entry, container } of containersOf(context, { init: true })) {
        const ref = parseImageRef(container.image ?? '');
        if (!ref || ref.digest) continue;
        yield report(
          workload.target,
          [...entry.path, 'image'],
          `${containerLabel(entry)} is not pinned by digest (${container.image})`,
        );
      }
    },
  }),
  defineRule({
    id: 'GL-IMG-003',
    family: 'images',
    title: 'Image from an unapproved registry',
    severity: 'error',
    mode: 'both',
    why: 'Images from registries the platform does not approve skip its scanning, signing and retention.',
    fix: 'Mirror the image into an approved registry, or add the registry to `allowedRegistries` in the audit config.',
    *check(context) {
      const allowed = context.config.allowedRegistries;
      if (allowed.length === 0) return;
      for (const { workload, entry, container } of containersOf(context, { init: true })) {
        const ref = parseImageRef(container.image ?? '');
        if (!ref || registryAllowed(ref, allowed)) continue;
        yield report(
          workload.target,
          [...entry.path, 'image'],
          `${containerLabel(entry)} pulls from ${ref.registry}, which is not among the allowed registries (${allowed.join(', ')})`,
        );
      }
    },
  }),
  defineRule({
    id: 'GL-IMG-004',
    family: 'images',
    title: 'Pull policy fits the tag',
    severity: 'warning',
    mode: 'both',
    why: 'With a mutable tag and IfNotPresent, each node keeps whatever it pulled first; with Never, a new node cannot start the pod at all.',
    fix: 'Pin a digest or an immutable tag; use imagePullPolicy Always for mutable tags and never Never outside development.',
    *check(context) {
      for (const { workload, entry, container } of containersOf(context, { init: true })) {
        const policy = container.imagePullPolicy;
        const ref = parseImageRef(container.image ?? '');
        if (!ref || !policy) continue;
        if (policy === 'Never') {
          yield report(
            workload.target,
            [...entry.path, 'imagePullPolicy'],
            `${containerLabel(entry)} has imagePullPolicy Never`,
          );
        } else if (
          policy === 'IfNotPresent' &&
          !ref.digest &&
          (ref.tag === undefined || ref.tag === 'latest')
        ) {
          yield report(
            workload.target,
            [...entry.path, 'imagePullPolicy'],
            `${containerLabel(entry)} uses a mutable tag (${container.image}) with imagePullPolicy IfNotPresent: nodes keep stale images`,
          );
        }
      }
    },
  }),
];
