import { describe, expect, it } from 'vitest';
import { isLoopbackHost, parseAuthChallenge, registryBaseUrl } from '../../src/image/registry.ts';

describe('parseAuthChallenge', () => {
  it.each([
    ['Basic realm="basic-realm"', { scheme: 'basic', params: { realm: 'basic-realm' } }],
    [
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"',
      {
        scheme: 'bearer',
        params: {
          realm: 'https://auth.docker.io/token',
          service: 'registry.docker.io',
          scope: 'repository:library/nginx:pull',
        },
      },
    ],
    [
      'Bearer realm=https://ghcr.io/token, service=ghcr.io',
      { scheme: 'bearer', params: { realm: 'https://ghcr.io/token', service: 'ghcr.io' } },
    ],
    ['Bearer realm="a \\"quoted\\" realm"', { scheme: 'bearer', params: { realm: 'a "quoted" realm' } }],
    ['Basic', { scheme: 'basic', params: {} }],
  ])('%s', (header, expected) => {
    expect(parseAuthChallenge(header)).toEqual(expected);
  });

  it('gives undefined for an empty header', () => {
    expect(parseAuthChallenge('')).toBeUndefined();
  });
});

describe('registry addresses', () => {
  it.each([
    ['127.0.0.1:5000', true, 'http://127.0.0.1:5000'],
    ['127.1.2.3', true, 'http://127.1.2.3'],
    ['localhost:5000', true, 'http://localhost:5000'],
    ['[::1]:5000', true, 'http://[::1]:5000'],
    ['registry.example.com:5000', false, 'https://registry.example.com:5000'],
    ['ghcr.io', false, 'https://ghcr.io'],
    ['127.example.com', false, 'https://127.example.com'],
    ['docker.io', false, 'https://registry-1.docker.io'],
  ])('%s: loopback %s, %s', (registry, loopback, url) => {
    expect(isLoopbackHost(registry)).toBe(loopback);
    expect(registryBaseUrl(registry)).toBe(url);
  });
});
