import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type GitHubFake, startGitHubFake } from '../../../test/support/github-fake.ts';

// The fake is only worth something if it refuses what GitHub's description refuses. These tests send raw
// requests, valid and invalid, and check what the fake recorded.
let fake: GitHubFake;
beforeAll(async () => {
  fake = await startGitHubFake();
});
afterAll(async () => {
  // The refusals below were on purpose.
  fake.violations.length = 0;
  await fake.close();
});
beforeEach(() => {
  fake.violations.length = 0;
});

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${fake.url}${path}`, {
    method,
    headers: {
      authorization: 'token test-token',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
}

describe('GitHub fake: valid requests', () => {
  it('creates a deployment and its statuses with schema-shaped answers', async () => {
    const created = await call('POST', '/repos/octo/shop/deployments', {
      ref: 'main',
      environment: 'staging',
      required_contexts: [],
      payload: { app: 'api' },
    });
    expect(created.status).toBe(201);
    expect(created.body?.environment).toBe('staging');
    const id = created.body?.id as number;
    const status = await call('POST', `/repos/octo/shop/deployments/${id}/statuses`, {
      state: 'success',
      environment_url: 'https://api.staging.example.com',
    });
    expect(status.status).toBe(201);
    expect(status.body?.state).toBe('success');
    const listed = await call('GET', `/repos/octo/shop/deployments?environment=staging&per_page=10`);
    expect(listed.status).toBe(200);
    expect((listed.body as unknown as unknown[]).length).toBeGreaterThanOrEqual(1);
    expect(fake.violations).toEqual([]);
  });
});

describe('GitHub fake: requests GitHub would refuse', () => {
  it.each([
    ['an unknown path', 'POST', '/repos/octo/shop/deployment', { ref: 'main' }, /no such path/],
    ['a method the path lacks', 'DELETE', '/repos/octo/shop/deployments', undefined, /not an operation/],
    ['a missing required property', 'POST', '/repos/octo/shop/deployments', { environment: 'x' }, /ref/],
    [
      'a wrongly typed property',
      'POST',
      '/repos/octo/shop/deployments',
      { ref: 'main', auto_merge: 'no' },
      /boolean/,
    ],
    [
      'an undeclared property',
      'POST',
      '/repos/octo/shop/deployments',
      { ref: 'main', enviroment: 'x' },
      /enviroment/,
    ],
    [
      'a state outside the enum',
      'POST',
      '/repos/octo/shop/deployments/1000/statuses',
      { state: 'done' },
      /allowed values/,
    ],
    [
      'a non-integer path parameter',
      'POST',
      '/repos/octo/shop/deployments/abc/statuses',
      { state: 'success' },
      /deployment_id/,
    ],
    ['an undeclared query parameter', 'GET', '/repos/octo/shop/deployments?env=staging', undefined, /`env`/],
    ['a body that is not JSON', 'POST', '/repos/octo/shop/deployments', '{ref:', /not JSON/],
    [
      'a body where none is taken',
      'GET',
      '/repos/octo/shop/deployments/1000',
      undefined,
      /takes no request body/,
    ],
  ])('refuses %s', async (_name, method, path, body, expected) => {
    // fetch forbids a body on GET, so that case goes through Node's http client.
    const response =
      _name === 'a body where none is taken'
        ? await rawRequest(fake.url, method, path, '{"a":1}')
        : await call(method, path, body);
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(fake.violations.join('\n')).toMatch(expected);
  });

  it('refuses a write without an Authorization header', async () => {
    const response = await fetch(`${fake.url}/repos/octo/shop/deployments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ref: 'main' }),
    });
    expect(response.status).toBe(422);
    expect(fake.violations.join('\n')).toMatch(/Authorization/);
  });

  it('answers a planned failure with the planned status', async () => {
    fake.failNext('repos/create-deployment', 403, 'Resource not accessible by integration');
    const response = await call('POST', '/repos/octo/shop/deployments', { ref: 'main' });
    expect(response.status).toBe(403);
    expect(response.body?.message).toBe('Resource not accessible by integration');
    expect(fake.violations).toEqual([]);
  });
});

async function rawRequest(base: string, method: string, path: string, body: string) {
  const { request } = await import('node:http');
  const url = new URL(path, base);
  return new Promise<{ status: number }>((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        headers: {
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          authorization: 'token t',
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
