import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  createTestNamespace,
  serviceAccountKubeconfig,
  type TestNamespace,
} from '../../../testenv/src/index.ts';
import { readRecord } from '../../src/release/store.ts';
import { GreenlightError } from '../../src/runtime/errors.ts';
import { runDeploy, testKube } from './fixtures.ts';

const roleYaml = readFileSync(
  join(import.meta.dirname, '..', '..', '..', 'rbac', 'deployer-role.yaml'),
  'utf8',
);

describe('deploy with a ServiceAccount bound to the shipped Role', () => {
  let ns: TestNamespace;
  beforeAll(async () => {
    ns = await createTestNamespace('deploy-rbac');
  });
  afterAll(async () => {
    await ns?.delete();
  });

  it('runs the first and the second deploy with exactly rbac/deployer-role.yaml', async () => {
    const kubeconfig = await serviceAccountKubeconfig(ns.name, 'deployer', roleYaml);
    const kube = testKube(kubeconfig);
    const first = await runDeploy(kube, { namespace: ns.name, shape: { hpa: true } });
    expect(first.error, first.lines.join('\n')).toBeUndefined();
    expect(first.result.active).toBe(true);
    const second = await runDeploy(kube, { namespace: ns.name, shape: { hpa: true, version: '1.1.0' } });
    expect(second.error, second.lines.join('\n')).toBeUndefined();
    expect(second.result).toMatchObject({ color: 'green', ready: true });
    const { record } = await readRecord(testKube(), {
      namespace: ns.name,
      app: 'api',
      environment: 'staging',
    });
    expect(record.revisions.map((r) => r.status)).toEqual(['active', 'candidate']);
  });

  it('names the missing permission when the Role lacks one', async () => {
    const role = parse(roleYaml) as { rules: { resources: string[]; verbs: string[] }[] };
    for (const rule of role.rules) {
      if (rule.resources.includes('services')) rule.verbs = rule.verbs.filter((v) => v !== 'patch');
    }
    const other = await createTestNamespace('deploy-rbac-limited');
    try {
      const limitedKubeconfig = await serviceAccountKubeconfig(other.name, 'limited', JSON.stringify(role));
      const { error } = await runDeploy(testKube(limitedKubeconfig), { namespace: other.name });
      expect(error).toBeInstanceOf(GreenlightError);
      const failure = error as GreenlightError;
      expect(failure.reason).toBe(
        `permission denied: system:serviceaccount:${other.name}:limited may not patch services in namespace "${other.name}"`,
      );
      expect(failure.hint).toContain('rbac/deployer-role.yaml');
      expect(failure.object?.kind).toBe('Service');
    } finally {
      await other.delete();
    }
  });
});
