import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/runtime/errors.ts';
import { type InputSpecs, readInputs, splitLines, splitList } from '../../src/runtime/inputs.ts';

const specs = {
  name: { type: 'string', required: true },
  push: { type: 'boolean', default: 'true' },
  wait: { type: 'duration', default: '5m' },
  retries: { type: 'int', min: 0, max: 10 },
  mode: { type: 'enum', values: ['build', 'retag'], default: 'build' },
  platforms: { type: 'list' },
  set: { type: 'lines' },
  gates: { type: 'yaml' },
  password: { type: 'string', secret: true },
} as const satisfies InputSpecs;

function read(raw: Record<string, string>, mask?: (s: string) => void) {
  return readInputs(specs, (name) => raw[name], mask);
}

describe('readInputs', () => {
  it('applies defaults and types every value', () => {
    const inputs = read({ name: 'app' });
    expect(inputs).toEqual({
      name: 'app',
      push: true,
      wait: 300_000,
      retries: undefined,
      mode: 'build',
      platforms: [],
      set: [],
      gates: undefined,
      password: undefined,
    });
  });

  it.each([
    ['push', 'false', false],
    ['push', 'yes', true],
    ['wait', '90s', 90_000],
    ['wait', '1h30m', 5_400_000],
    ['wait', '250ms', 250],
    ['wait', '45', 45_000],
    ['retries', '3', 3],
    ['mode', 'retag', 'retag'],
    ['platforms', 'linux/amd64, linux/arm64\nlinux/s390x', ['linux/amd64', 'linux/arm64', 'linux/s390x']],
    ['set', 'a=1,2\n\n# comment\nb=3', ['a=1,2', 'b=3']],
    ['gates', '- kind: http\n  url: http://x', [{ kind: 'http', url: 'http://x' }]],
  ])('parses %s=%j', (name, raw, expected) => {
    const inputs = read({ name: 'app', [name]: raw }) as Record<string, unknown>;
    expect(inputs[name]).toEqual(expected);
  });

  it.each([
    [{}, 'input `name` is required and was not given'],
    [{ name: 'a', push: 'maybe' }, 'input `push` must be true or false, got "maybe"'],
    [
      { name: 'a', wait: '5 minutes' },
      'input `wait` must be a duration such as 90s, 5m or 1h30m, got "5 minutes"',
    ],
    [{ name: 'a', wait: '-5s' }, 'input `wait` must be a duration'],
    [{ name: 'a', retries: 'three' }, 'input `retries` must be a whole number, got "three"'],
    [{ name: 'a', retries: '11' }, 'input `retries` must be at most 10, got 11'],
    [{ name: 'a', retries: '-1' }, 'input `retries` must be at least 0, got -1'],
    [{ name: 'a', mode: 'copy' }, 'input `mode` must be one of build|retag, got "copy"'],
    [{ name: 'a', gates: 'a: [1' }, 'input `gates` must be valid YAML'],
  ])('rejects %j naming the input', (raw, message) => {
    expect(() => read(raw as Record<string, string>)).toThrow(message);
  });

  it('reports every problem at once', () => {
    try {
      read({ push: 'maybe', wait: 'soon' });
      expect.unreachable('readInputs accepted bad inputs');
    } catch (error) {
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).problems).toHaveLength(3);
    }
  });

  it('masks secret inputs before validating anything else', () => {
    const masked: string[] = [];
    expect(() => read({ password: 's3cret', push: 'maybe' }, (s) => masked.push(s))).toThrow(InputError);
    expect(masked).toEqual(['s3cret']);
  });

  it('never puts a secret value in an error message', () => {
    const secretSpecs = { token: { type: 'int', secret: true } } as const satisfies InputSpecs;
    expect(() => readInputs(secretSpecs, () => 'ghp_abc')).toThrow(
      'input `token` must be a whole number, got "***"',
    );
  });
});

describe('list splitting', () => {
  it('splitList drops comments and blanks and splits on commas', () => {
    expect(splitList('a,b\n# c\n\n d ')).toEqual(['a', 'b', 'd']);
  });
  it('splitLines keeps commas', () => {
    expect(splitLines('x=1,2\r\ny=3')).toEqual(['x=1,2', 'y=3']);
  });
});
