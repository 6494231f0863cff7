import { describe, expect, it } from 'vitest';
import {
  digestProblem,
  formatImageReference,
  type ImageReference,
  isValidTag,
  normalizeImageReference,
  parseImageReference,
  repositoryName,
} from '../../src/image/reference.ts';
import { GreenlightError } from '../../src/runtime/errors.ts';
import { Random } from '../version/random.ts';

const SHA = `sha256:${'a'.repeat(64)}`;

describe('parseImageReference', () => {
  it.each<[string, ImageReference]>([
    ['nginx', { registry: 'docker.io', repository: 'library/nginx' }],
    ['nginx:1.27', { registry: 'docker.io', repository: 'library/nginx', tag: '1.27' }],
    ['bitnami/redis:7', { registry: 'docker.io', repository: 'bitnami/redis', tag: '7' }],
    ['docker.io/nginx', { registry: 'docker.io', repository: 'library/nginx' }],
    ['index.docker.io/library/nginx', { registry: 'docker.io', repository: 'library/nginx' }],
    ['localhost/app', { registry: 'localhost', repository: 'app' }],
    ['localhost:5000/app', { registry: 'localhost:5000', repository: 'app' }],
    ['localhost:5000/app:1.0', { registry: 'localhost:5000', repository: 'app', tag: '1.0' }],
    ['127.0.0.1:5000/team/app', { registry: '127.0.0.1:5000', repository: 'team/app' }],
    ['[::1]:5000/app', { registry: '[::1]:5000', repository: 'app' }],
    ['ghcr.io/acme/shop/api:v1.2.3', { registry: 'ghcr.io', repository: 'acme/shop/api', tag: 'v1.2.3' }],
    [`ghcr.io/acme/api@${SHA}`, { registry: 'ghcr.io', repository: 'acme/api', digest: SHA }],
    [`ghcr.io/acme/api:1@${SHA}`, { registry: 'ghcr.io', repository: 'acme/api', tag: '1', digest: SHA }],
    ['Registry.Example.com/a', { registry: 'Registry.Example.com', repository: 'a' }],
    ['Host/app', { registry: 'Host', repository: 'app' }],
    ['a/b__c/d-e--f.g_h', { registry: 'docker.io', repository: 'a/b__c/d-e--f.g_h' }],
    ['registry:5000', { registry: 'docker.io', repository: 'library/registry', tag: '5000' }],
    ['x:_tag', { registry: 'docker.io', repository: 'library/x', tag: '_tag' }],
  ])('%s', (text, expected) => {
    expect(parseImageReference(text)).toEqual(expected);
  });

  it.each([
    ['', 'it is empty'],
    [' nginx', 'white space at character 1'],
    ['Nginx', 'lower case, "Nginx" has "N" (at character 1)'],
    ['ghcr.io/Acme/api', 'lower case, "Acme" has "A" (at character 9)'],
    [
      'ghcr.io/acme//api',
      'empty path component (two slashes in a row, or a slash at an end) (at character 14)',
    ],
    ['ghcr.io/acme/api/', 'empty path component'],
    ['/api', 'empty path component'],
    ['ghcr.io/-api', 'must start and end with a letter or digit'],
    ['ghcr.io/a...b', 'must start and end with a letter or digit'],
    ['ghcr.io/a$b', '"$" is not allowed'],
    ['app:', 'the tag after ":" is empty (character 5)'],
    ['app:.hidden', 'the tag ".hidden" must start with a letter'],
    ['app:-x', 'the tag "-x" must start'],
    [`app:${'a'.repeat(129)}`, 'the tag is 129 characters long, the limit is 128'],
    ['app@sha256:abc', 'is not of the form algorithm:hex'],
    [`app@md5:${'a'.repeat(32)}`, 'digest algorithm "md5" is not supported'],
    [`app@sha256:${'a'.repeat(63)}0a`, 'has 64 hex digits, this one has 65'],
    [`app@sha256:${'A'.repeat(64)}`, 'must be lower case'],
    [`app@${SHA}@${SHA}`, 'is not of the form algorithm:hex'],
    ['a'.repeat(64).replace(/a/g, 'f'), 'image ID'],
    ['-bad.host/app', 'is not a valid registry host'],
    ['host:port/app', 'is not a valid registry host'],
    [':tag', 'no repository name'],
    [`ghcr.io/${'a'.repeat(250)}`, 'the repository name is 258 characters long, the limit is 255'],
  ])('rejects %j: %s', (text, message) => {
    expect(() => parseImageReference(text)).toThrow(GreenlightError);
    expect(() => parseImageReference(text)).toThrow(message);
  });

  it('names the reference and the grammar in the error', () => {
    const error = (() => {
      try {
        parseImageReference('ghcr.io/Acme/api');
      } catch (caught) {
        return caught as GreenlightError;
      }
    })();
    expect(error?.what).toBe('image reference "ghcr.io/Acme/api"');
    expect(error?.hint).toContain('[registry[:port]/]path[:tag]');
  });
});

describe('formatImageReference', () => {
  it.each([
    ['nginx', 'docker.io/library/nginx', 'nginx'],
    ['nginx:1.27', 'docker.io/library/nginx:1.27', 'nginx:1.27'],
    ['bitnami/redis:7', 'docker.io/bitnami/redis:7', 'bitnami/redis:7'],
    ['docker.io/library/a/b', 'docker.io/library/a/b', 'library/a/b'],
    ['localhost:5000/app:1', 'localhost:5000/app:1', 'localhost:5000/app:1'],
    [`ghcr.io/a/b@${SHA}`, `ghcr.io/a/b@${SHA}`, `ghcr.io/a/b@${SHA}`],
  ])('%s -> %s, familiar %s', (text, full, familiar) => {
    const ref = parseImageReference(text);
    expect(formatImageReference(ref)).toBe(full);
    expect(formatImageReference(ref, { familiar: true })).toBe(familiar);
    expect(normalizeImageReference(text)).toBe(full);
  });

  it('gives the repository name without tag or digest', () => {
    expect(repositoryName(parseImageReference('nginx:1'))).toBe('docker.io/library/nginx');
    expect(repositoryName(parseImageReference('nginx:1'), { familiar: true })).toBe('nginx');
  });
});

describe('tags and digests', () => {
  it.each([
    ['latest', true],
    ['1.2.3', true],
    ['_x', true],
    ['a'.repeat(128), true],
    ['a'.repeat(129), false],
    ['.x', false],
    ['-x', false],
    ['a/b', false],
    ['', false],
  ])('isValidTag(%j) = %s', (tag, valid) => {
    expect(isValidTag(tag)).toBe(valid);
  });

  it.each([
    [SHA, undefined],
    [`sha512:${'0'.repeat(128)}`, undefined],
    [`sha384:${'0'.repeat(96)}`, undefined],
    ['sha256', 'is not of the form'],
  ])('digestProblem(%j)', (digest, problem) => {
    const found = digestProblem(digest);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toContain(problem);
  });
});

/** Generates a reference from the grammar, with its expected parts. */
function generate(random: Random): { text: string; expected: ImageReference } {
  const alnum = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const component = (): string => {
    let text = random.string(alnum, random.int(1, 4));
    for (let i = random.int(0, 2); i > 0; i--) {
      text += random.pick(['.', '_', '__', '-', '--']) + random.string(alnum, random.int(1, 3));
    }
    return text;
  };
  const hostKind = random.int(0, 3);
  const components = Array.from({ length: random.int(1, 3) }, component);
  // Without a registry, a first component with a dot would be read as a registry host (as Docker does).
  if (hostKind === 0) components[0] = (components[0] as string).replace(/\./g, '-');
  const path = components.join('/');
  let registry: string | undefined;
  if (hostKind === 1) registry = `${random.string('abcdefghij', random.int(1, 5))}.io`;
  if (hostKind === 2) registry = `localhost:${random.int(1, 65535)}`;
  if (hostKind === 3) registry = `10.${random.int(0, 255)}.${random.int(0, 255)}.1:${random.int(1, 99999)}`;
  const tag = random.bool()
    ? random.string('Ab9_', 1) + random.string('abcXYZ019_.-', random.int(0, 20))
    : undefined;
  const digest = random.int(0, 3) === 0 ? `sha256:${random.string('0123456789abcdef', 64)}` : undefined;
  let text = registry ? `${registry}/${path}` : path;
  if (tag) text += `:${tag}`;
  if (digest) text += `@${digest}`;
  const expected: ImageReference = {
    registry: registry ?? 'docker.io',
    repository: !registry && !path.includes('/') ? `library/${path}` : path,
  };
  if (tag) expected.tag = tag;
  if (digest) expected.digest = digest;
  return { text, expected };
}

describe('property: generated references', () => {
  it('parse to their parts, and format back to a reference that parses the same', () => {
    const random = new Random(20261121);
    for (let i = 0; i < 2000; i++) {
      const { text, expected } = generate(random);
      const parsed = parseImageReference(text);
      expect(parsed, text).toEqual(expected);
      expect(parseImageReference(formatImageReference(parsed))).toEqual(parsed);
      expect(parseImageReference(formatImageReference(parsed, { familiar: true }))).toEqual(parsed);
    }
  });

  it('never take a registry port for a tag', () => {
    const random = new Random(7);
    for (let i = 0; i < 500; i++) {
      const port = random.int(1, 65535);
      const host = random.pick(['localhost', 'registry.local', '192.168.0.10', 'reg-1.example.com']);
      const parsed = parseImageReference(`${host}:${port}/team/app`);
      expect(parsed.registry).toBe(`${host}:${port}`);
      expect(parsed.tag).toBeUndefined();
    }
  });

  it('reject arbitrary strings only with a GreenlightError, and round-trip whatever they accept', () => {
    const random = new Random(99);
    const alphabet = 'aZ09:/@._-+ $[]';
    for (let i = 0; i < 3000; i++) {
      const text = random.string(alphabet, random.int(0, 24));
      let parsed: ImageReference | undefined;
      try {
        parsed = parseImageReference(text);
      } catch (error) {
        expect(error, text).toBeInstanceOf(GreenlightError);
        continue;
      }
      expect(parseImageReference(formatImageReference(parsed)), text).toEqual(parsed);
    }
  });
});
