import type { V1Container } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { apiChangeFor, NEWEST_KNOWN_MINOR, parseMinor } from '../../src/audit/api-versions.ts';
import { parseImageRef, registryAllowed } from '../../src/audit/image-ref.ts';
import { heapSetting, isSlowStarter, javaVersionOfImage, jvmEvidence } from '../../src/audit/jvm.ts';
import { parseQuantity } from '../../src/audit/quantity.ts';
import { targetMinor } from '../../src/audit/run.ts';
import { releaseNameFor } from '../../src/audit/sources.ts';

const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;

describe('parseImageRef', () => {
  it.each([
    ['nginx', { registry: 'docker.io', repository: 'library/nginx' }],
    ['nginx:1.27', { registry: 'docker.io', repository: 'library/nginx', tag: '1.27' }],
    ['bitnami/redis:7.2', { registry: 'docker.io', repository: 'bitnami/redis', tag: '7.2' }],
    ['localhost/app', { registry: 'localhost', repository: 'app' }],
    ['registry:5000/team/app', { registry: 'registry:5000', repository: 'team/app' }],
    [
      'registry.example.com:5000/team/app:1.2.3',
      { registry: 'registry.example.com:5000', repository: 'team/app', tag: '1.2.3' },
    ],
    [`ghcr.io/acme/api@${DIGEST}`, { registry: 'ghcr.io', repository: 'acme/api', digest: DIGEST }],
    [
      `ghcr.io/acme/api:1.0@${DIGEST}`,
      { registry: 'ghcr.io', repository: 'acme/api', tag: '1.0', digest: DIGEST },
    ],
  ])('reads %s', (text, expected) => {
    expect(parseImageRef(text)).toMatchObject(expected);
  });

  it.each(['', 'has space:1', 'app@sha256:short', 'registry/:tag', 'app:-bad'])('rejects %j', (text) => {
    expect(parseImageRef(text)).toBeUndefined();
  });

  it('never takes a registry port for a tag, whatever the host, port and path', () => {
    const hosts = ['registry', 'reg.example.com', 'localhost', '10.0.0.7', 'a-b.c'];
    for (const host of hosts) {
      for (const port of [80, 443, 5000, 65535]) {
        for (const path of ['app', 'team/app', 'a/b/c']) {
          const withTag = parseImageRef(`${host}:${port}/${path}:v${port}`);
          expect(withTag).toMatchObject({ registry: `${host}:${port}`, repository: path, tag: `v${port}` });
          const bare = parseImageRef(`${host}:${port}/${path}`);
          expect(bare?.tag).toBeUndefined();
          expect(bare?.registry).toBe(`${host}:${port}`);
        }
      }
    }
  });

  it.each([
    ['registry.example.com/shop/api:1', ['registry.example.com'], true],
    ['registry.example.com/shop/api:1', ['registry.example.com/shop'], true],
    ['registry.example.com/shopping/api:1', ['registry.example.com/shop'], false],
    ['nginx:1', ['docker.io/library'], true],
    ['nginx:1', ['ghcr.io'], false],
  ])('allows %s under %j: %s', (image, allowed, ok) => {
    const ref = parseImageRef(image);
    expect(ref && registryAllowed(ref, allowed)).toBe(ok);
  });
});

describe('JVM detection', () => {
  const container = (overrides: Partial<V1Container>): V1Container => ({
    name: 'c',
    image: 'registry.example.com/app:1',
    ...overrides,
  });

  it.each([
    [{ image: 'eclipse-temurin:21-jre' }, 'image'],
    [{ image: 'confluentinc/cp-kafka:7.6.0' }, 'image'],
    [{ command: ['java', '-jar', '/app.jar'] }, 'command'],
    [{ args: ['-jar', 'app.jar', '--port', '8080'] }, 'command'],
    [{ env: [{ name: 'JAVA_TOOL_OPTIONS', value: '' }] }, 'JAVA_TOOL_OPTIONS'],
  ])('recognises %j', (overrides, words) => {
    expect(jvmEvidence(container(overrides))).toContain(words);
  });

  it.each([[{}], [{ image: 'nginx:1.27' }], [{ command: ['/bin/javascript-runner'] }]])(
    'leaves %j alone',
    (overrides) => {
      expect(jvmEvidence(container(overrides))).toBeUndefined();
    },
  );

  it('reads the last heap setting, as the JVM does', () => {
    expect(
      heapSetting(container({ args: ['-Xmx512m'], env: [{ name: 'JAVA_OPTS', value: '-Xms1g -Xmx2G' }] })),
    ).toMatchObject({
      kind: 'fixed',
      bytes: 2 * 2 ** 30,
    });
    expect(
      heapSetting(container({ env: [{ name: 'JAVA_TOOL_OPTIONS', value: '-XX:MaxRAMPercentage=62.5' }] })),
    ).toMatchObject({
      kind: 'percent',
      percent: 62.5,
    });
    expect(heapSetting(container({ args: ['-Xmx1048576k'] }))).toMatchObject({ bytes: 2 ** 30 });
    expect(heapSetting(container({}))).toBeUndefined();
  });

  it.each([
    ['openjdk:8-jre', 8],
    ['openjdk:1.8.0_312', 8],
    ['amazoncorretto:8u392', 8],
    ['eclipse-temurin:11', 11],
    ['azul/zulu-openjdk:17-latest', 17],
    ['openjdk:latest', undefined],
    ['node:8', undefined],
  ])('reads the Java version of %s', (image, version) => {
    expect(javaVersionOfImage(image)).toBe(version);
  });

  it('knows slow starters that are not JVMs', () => {
    expect(isSlowStarter(container({ image: 'postgres:16' }))).toBe(true);
    expect(isSlowStarter(container({ image: 'nginx:1.27' }))).toBe(false);
  });
});

describe('parseQuantity', () => {
  it.each([
    ['512Mi', 512 * 2 ** 20],
    ['1.5Gi', 1.5 * 2 ** 30],
    ['1G', 1e9],
    ['250m', 0.25],
    ['2', 2],
    ['1e3', 1000],
    [3, 3],
  ])('reads %j', (text, value) => expect(parseQuantity(text)).toBeCloseTo(value));
  it.each(['', 'lots', '1Zi', '1.2.3', undefined])('rejects %j', (text) =>
    expect(parseQuantity(text)).toBeUndefined(),
  );
});

describe('API versions', () => {
  it.each([
    ['1.33', 33],
    ['v1.36.3', 36],
    ['1.30.1-gke.100', 30],
    ['2.0', undefined],
    ['latest', undefined],
  ])('reads the minor of %s', (text, minor) => expect(parseMinor(text)).toBe(minor));

  it('knows the replacement of a removed API', () => {
    expect(apiChangeFor('batch/v1beta1', 'CronJob')).toMatchObject({
      removedIn: 25,
      replacement: 'batch/v1',
    });
    expect(apiChangeFor('batch/v1', 'CronJob')).toBeUndefined();
  });
});

describe('inputs of a run', () => {
  it.each([
    ['deploy/chart', 'chart'],
    ['examples/chart/demo-app/', 'demo-app'],
    ['dist/shop-1.4.0.tgz', 'shop'],
    ['oci://registry.example.com:5000/charts/shop', 'shop'],
    ['oci://registry.example.com/charts/Shop_API:1.2.0', 'shop-api'],
  ])('renders %s as release %s', (chart, name) => expect(releaseNameFor(chart)).toBe(name));

  it('takes the target version from the input, else the cluster, else the newest known', () => {
    expect(targetMinor('1.29', 'v1.36.3')).toBe(29);
    expect(targetMinor(undefined, 'v1.31.2')).toBe(31);
    expect(targetMinor(undefined, undefined)).toBe(NEWEST_KNOWN_MINOR);
    expect(() => targetMinor('next', undefined)).toThrow(
      /input `kubernetes-version`.*"next" is not a Kubernetes version/,
    );
  });
});
