// The promote command as a separate process through the greenlight CLI, against testenv: exit codes, the JSON
// outputs on stdout, the reasons on stderr.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadEnv, type TestNamespace } from '../../../testenv/src/index.ts';
import {
  APP,
  activeSelectorColor,
  digests,
  ENVIRONMENT,
  setupBlueGreen,
  testCluster,
} from './promote-fixture.ts';

const cli = join(import.meta.dirname, '..', '..', 'bin', 'greenlight.js');
const namespaces: TestNamespace[] = [];
afterAll(async () => {
  for (const ns of namespaces) await ns.delete();
});

function greenlight(args: string[]) {
  const result = spawnSync(process.execPath, [cli, 'promote', ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', KUBECONFIG: loadEnv().KUBECONFIG },
    timeout: 120_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('greenlight promote (CLI)', () => {
  it('refuses a wrong digest with exit 1 and the reason, then promotes with the right one', async () => {
    const { kube, namespace } = await testCluster('promote-cli');
    namespaces.push(namespace);
    await setupBlueGreen(kube, namespace.name, { live: 'blue' });
    const common = ['--app', APP, '--namespace', namespace.name, '--environment', ENVIRONMENT];
    const refused = greenlight([...common, '--expected-digest', digests.blue]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/not the expected sha256:b{64}/);
    expect(await activeSelectorColor(kube, namespace.name)).toBe('blue');

    const done = greenlight([
      ...common,
      '--expected-digest',
      digests.green,
      '--verify-for',
      '1s',
      '--scale-down-delay',
      '0s',
    ]);
    expect(done.status, done.stderr).toBe(0);
    expect(JSON.parse(done.stdout)).toMatchObject({
      'active-color': 'green',
      'previous-color': 'blue',
      revision: '2',
      'rolled-back': 'false',
    });
    expect(await activeSelectorColor(kube, namespace.name)).toBe('green');
  });
});
