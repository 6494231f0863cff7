import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadEnv, podBehaviour } from '../../../testenv/src/index.ts';
import { readRecord } from '../../src/release/store.ts';
import { appObjects, createTestNamespace, type TestNamespace, testKube } from './fixtures.ts';

const kube = testKube();
const cli = join(import.meta.dirname, '..', '..', 'bin', 'greenlight.js');

describe('the CLI cancelled by SIGTERM, as the runner cancels a job', () => {
  let ns: TestNamespace;
  beforeAll(async () => {
    ns = await createTestNamespace('deploy-sigterm');
  });
  afterAll(async () => {
    await ns?.delete();
  });

  it('stops waiting, scales the candidate down, records the cancellation and releases the lock', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'greenlight-cancel-'));
    const manifests = join(dir, 'app.yaml');
    const objects = appObjects({ annotations: podBehaviour.readyAfter(60) });
    writeFileSync(manifests, objects.map((o) => stringify(o.object)).join('---\n'));
    const child = spawn(
      process.execPath,
      [
        cli,
        'deploy-bluegreen',
        '--app',
        'api',
        '--namespace',
        ns.name,
        '--environment',
        'staging',
        '--manifests',
        manifests,
        '--timeout',
        '2m',
      ],
      {
        env: { ...process.env, KUBECONFIG: loadEnv().KUBECONFIG, GITHUB_RUN_ID: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    const waiting = new Promise<void>((resolve) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (/blue \d\/2 ready/.test(stderr)) resolve();
      });
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await waiting;
    child.kill('SIGTERM');
    const code = await exited;
    expect(code, stderr).toBe(1);
    expect(stderr).toContain('cancelled by SIGTERM');
    await expect(
      kube.coordination.readNamespacedLease({ name: 'greenlight-api-staging', namespace: ns.name }),
    ).rejects.toMatchObject({ code: 404 });
    const blue = await kube.apps.readNamespacedDeployment({ name: 'api-blue', namespace: ns.name });
    expect(blue.spec?.replicas).toBe(0);
    const { record } = await readRecord(kube, { namespace: ns.name, app: 'api', environment: 'staging' });
    expect(record.revisions[0]).toMatchObject({ status: 'failed' });
    expect(record.revisions[0]?.reason).toContain('cancelled by SIGTERM');
    await expect(kube.core.readNamespacedService({ name: 'api', namespace: ns.name })).rejects.toMatchObject({
      code: 404,
    });
  });
});
