import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestNamespace, faultProxy, loadEnv, type TestNamespace } from '../../../testenv/src/index.ts';
import { readRecord } from '../../src/release/store.ts';
import { GreenlightError } from '../../src/runtime/errors.ts';
import { runDeploy, testKube } from './fixtures.ts';

describe('deploys through the fault proxy', () => {
  let ns: TestNamespace;
  const rules: string[] = [];
  beforeAll(async () => {
    ns = await createTestNamespace('deploy-faults');
  });
  afterAll(async () => {
    for (const id of rules) await faultProxy.remove(id).catch(() => undefined);
    await ns?.delete();
  });

  const viaProxy = () => testKube(readFileSync(loadEnv().TESTENV_PROXY_KUBECONFIG, 'utf8'));

  it('retries throttling, server errors and dropped connections on safe requests, and completes', async () => {
    const inNamespace = `/namespaces/${ns.name}/`;
    const added = await Promise.all([
      faultProxy.add({
        kind: 'status',
        status: 503,
        method: 'PATCH',
        path: `${inNamespace}deployments/api-blue`,
        count: 2,
      }),
      faultProxy.add({
        kind: 'status',
        status: 429,
        retryAfterSeconds: 0,
        method: 'GET',
        path: `${inNamespace}configmaps/greenlight-release`,
        count: 1,
      }),
      faultProxy.add({ kind: 'reset', method: 'GET', path: `${inNamespace}services`, count: 1 }),
    ]);
    rules.push(...added.map((rule) => rule.id));
    const { result, error, lines } = await runDeploy(viaProxy(), { namespace: ns.name });
    expect(error, lines.join('\n')).toBeUndefined();
    expect(result.active).toBe(true);
    const applied = await faultProxy.list();
    for (const rule of added) {
      // Retired rules are gone from the list: each was used up, so each fault really happened.
      expect(applied.find((active) => active.id === rule.id)).toBeUndefined();
    }
    const { record } = await readRecord(testKube(), {
      namespace: ns.name,
      app: 'api',
      environment: 'staging',
    });
    expect(record.revisions[0]?.status).toBe('active');
  });

  it('an adoption whose activation fails puts the Service back on the old Deployment', async () => {
    const adopt = await createTestNamespace('deploy-adopt-fail');
    try {
      const admin = testKube();
      const labels = { app: 'api' };
      await admin.apps.createNamespacedDeployment({
        namespace: adopt.name,
        body: {
          metadata: { name: 'api', labels },
          spec: {
            replicas: 2,
            selector: { matchLabels: labels },
            template: {
              metadata: { labels },
              spec: { containers: [{ name: 'api', image: 'example.com/shop/api:0.9' }] },
            },
          },
        },
      });
      await admin.core.createNamespacedService({
        namespace: adopt.name,
        body: {
          metadata: { name: 'api' },
          spec: { selector: labels, ports: [{ port: 80, targetPort: 8080 }] },
        },
      });
      // The check after the switch watches the active Service's slices: refuse exactly that.
      const rule = await faultProxy.add({
        kind: 'status',
        status: 403,
        method: 'GET',
        path: `/namespaces/${adopt.name}/endpointslices\\?.*service-name%3Dapi(&|$)`,
      });
      rules.push(rule.id);
      const { error, lines } = await runDeploy(viaProxy(), { namespace: adopt.name });
      await faultProxy.remove(rule.id);
      expect(error, lines.join('\n')).toBeInstanceOf(GreenlightError);
      expect(lines.join('\n')).toContain('restored  Service api to the old Deployment api');
      const service = await admin.core.readNamespacedService({ name: 'api', namespace: adopt.name });
      expect(service.spec?.selector).toEqual(labels);
      const plain = await admin.apps.readNamespacedDeployment({ name: 'api', namespace: adopt.name });
      expect(plain.spec?.replicas).toBe(2);
      const blue = await admin.apps.readNamespacedDeployment({ name: 'api-blue', namespace: adopt.name });
      expect(blue.spec?.replicas).toBe(0);
    } finally {
      await adopt.delete();
    }
  });

  it('fails naming the object and the answer when the API server keeps refusing, and leaves nothing half-done', async () => {
    const rule = await faultProxy.add({
      kind: 'status',
      status: 503,
      method: 'PATCH',
      path: `/namespaces/${ns.name}/deployments/api-green`,
    });
    rules.push(rule.id);
    const { error } = await runDeploy(viaProxy(), { namespace: ns.name, shape: { version: '2.0.0' } });
    await faultProxy.remove(rule.id);
    expect(error).toBeInstanceOf(GreenlightError);
    const failure = error as GreenlightError;
    expect(failure.object).toMatchObject({ kind: 'Deployment', name: 'api-green' });
    expect(failure.reason).toMatch(/answered 503/);
    const active = await testKube().core.readNamespacedService({ name: 'api', namespace: ns.name });
    expect(active.spec?.selector?.['greenlight.dev/color']).toBe('blue');
    const { record } = await readRecord(testKube(), {
      namespace: ns.name,
      app: 'api',
      environment: 'staging',
    });
    expect(record.revisions.at(-1)).toMatchObject({ color: 'green', status: 'failed' });
  });
});
