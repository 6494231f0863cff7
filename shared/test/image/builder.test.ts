import { describe, expect, it } from 'vitest';
import {
  type BuilderProbe,
  chooseBuilder,
  failedStepLine,
  parseBuildSecrets,
  parseBuildxDriver,
} from '../../src/image/builder.ts';

const probe = (
  dockerEngine: boolean,
  buildx: boolean,
  buildah: boolean,
  buildxDriver?: string,
): BuilderProbe => ({
  dockerEngine,
  buildx,
  buildah,
  ...(buildxDriver ? { buildxDriver } : {}),
});

describe('chooseBuilder', () => {
  it.each([
    ['auto', probe(true, true, true), 'buildx', /auto: a Docker engine answers/],
    ['auto', probe(true, true, false), 'buildx', /auto/],
    ['auto', probe(false, false, true), 'buildah', /no Docker engine answers/],
    ['auto', probe(true, false, true), 'buildah', /buildx plugin is missing/],
    ['buildah', probe(true, true, true), 'buildah', /forced/],
    ['buildx', probe(true, true, false), 'buildx', /forced/],
    ['auto', probe(true, true, true, 'docker-container'), 'buildx', /auto: a Docker engine answers/],
    [
      'auto',
      probe(true, true, true, 'docker'),
      'buildah',
      /`docker` driver, which cannot push an image by digest/,
    ],
  ] as const)('%s with %j -> %s', (choice, found, name, reason) => {
    const chosen = chooseBuilder(choice, found);
    expect(chosen.name).toBe(name);
    expect(chosen.reason).toMatch(reason);
  });

  it.each([
    [
      'auto',
      probe(false, false, false),
      /no builder found: no Docker engine answers.*`buildah` is not installed/,
    ],
    ['buildx', probe(false, false, true), /`builder` is buildx but no Docker engine answers/],
    [
      'buildx',
      probe(true, false, true),
      /`builder` is buildx but the Docker engine answers but the buildx plugin/,
    ],
    ['buildah', probe(true, true, false), /`builder` is buildah but `buildah` is not installed/],
  ] as const)('%s with %j fails: %s', (choice, found, message) => {
    expect(() => chooseBuilder(choice, found)).toThrow(message);
  });
});

describe('parseBuildxDriver', () => {
  it.each([
    ['Name:          builder-1\nDriver:        docker-container\nLast Activity: now\n', 'docker-container'],
    ['Name:   default\nDriver: docker\n\nNodes:\nName: default\n', 'docker'],
    ['no driver line', undefined],
  ])('%j -> %s', (text, driver) => {
    expect(parseBuildxDriver(text)).toBe(driver);
  });
});

describe('parseBuildSecrets', () => {
  it('splits on the first = and keeps the rest of the value', () => {
    expect(parseBuildSecrets(['npm_token=abc=def', 'github.token=x'])).toEqual({
      secrets: [
        { id: 'npm_token', value: 'abc=def' },
        { id: 'github.token', value: 'x' },
      ],
      problems: [],
    });
  });

  it.each([
    [['s3cr3t-only'], 'line 1 must be id=value'],
    [['=s3cr3t-x'], 'line 1 must be id=value'],
    [['a b=s3cr3t-x'], 'line 1 must be id=value'],
    [['a=s3cr3t-1', 'a=s3cr3t-2'], 'line 2 repeats the id "a"'],
  ])('%j: %s, without the value', (lines, problem) => {
    const { problems } = parseBuildSecrets(lines);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(problem);
    expect(problems[0]).not.toContain('s3cr3t');
  });
});

describe('failedStepLine', () => {
  const dockerfile = [
    'FROM registry.example.com/base:1 AS build',
    '# install',
    'RUN apk add curl \\',
    '    && rm -rf /var/cache/apk',
    'RUN make',
    '',
    'FROM scratch',
    'COPY --from=build /out /app',
    'RUN make',
  ].join('\n');
  it.each([
    [
      'buildah, one-line step',
      ['STEP 3/5: RUN make', 'make: *** no rule', 'Error: building at STEP "RUN make"'],
      5,
    ],
    ['buildah, continued step', ['STEP 2/5: RUN apk add curl     && rm -rf /var/cache/apk', 'ERROR: x'], 3],
    [
      'buildah, step with extra spaces',
      ['STEP 5/5: COPY  --from=build   /out /app', 'Error: no such file'],
      8,
    ],
    [
      'buildx names the line',
      ['#8 ERROR: process did not complete', 'Dockerfile:9', '--------------------'],
      9,
    ],
    ['buildx with a custom file name', ['Dockerfile.prod:4'], 4],
    ['nothing to go by', ['Error: something else'], undefined],
    ['a step not in the file', ['STEP 1/1: RUN other'], undefined],
  ])('%s', (_name, tail, line) => {
    expect(failedStepLine(dockerfile, tail)).toBe(line);
  });
});
