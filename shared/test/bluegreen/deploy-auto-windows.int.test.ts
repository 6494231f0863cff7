// deploy-bluegreen with `promote: auto` runs the promote flow with the verification window and the scale-down
// delay its `verify-for` and `scale-down-delay` inputs give. Checked by the lines the promote writes, not by timing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestNamespace, loadEnv, type TestNamespace } from '../../../testenv/src/index.ts';
import { manifestWorkspace, runDeployCommand } from './command-run.ts';
import { testKube } from './fixtures.ts';

const env = loadEnv();
const kube = testKube();
const repository = `${env.TESTENV_REGISTRY}/shop/web`;
const image = (hex: string) => `${repository}@sha256:${hex.repeat(64)}`;

describe('deploy-bluegreen promote: auto with verify-for and scale-down-delay', () => {
  let ns: TestNamespace;
  let workspace: string;
  const inputs = (images: string) => ({
    app: 'web',
    namespace: ns.name,
    environment: 'staging',
    manifests: 'manifests/web.yaml',
    images,
    timeout: '60s',
  });
  const runEnv = () => ({ KUBECONFIG: env.KUBECONFIG, GITHUB_WORKSPACE: workspace });

  beforeAll(async () => {
    ns = await createTestNamespace('deploy-windows');
    workspace = manifestWorkspace('web', { web: `${repository}:latest` });
    const first = await runDeployCommand(inputs(image('a')), runEnv());
    expect(first.outputs, first.lines.join('\n')).toMatchObject({ color: 'blue' });
  });
  afterAll(async () => {
    await ns?.delete();
  });

  it('verifies and scales down for as long as the inputs say', async () => {
    const run = await runDeployCommand(
      { ...inputs(image('b')), promote: 'auto', 'verify-for': '3s', 'scale-down-delay': '2s' },
      runEnv(),
    );
    const log = run.lines.join('\n');
    expect(run.outputs, log).toMatchObject({ color: 'green', 'previous-color': 'blue' });
    expect(log).toMatch(/Verifying green for 3 s \(every \d+ ms\)/);
    expect(log).toMatch(/web-blue stays at full size for 2 s so node proxies catch up/);
    expect(log).not.toMatch(/for 60 s|for 30 s/);
    const active = await kube.core.readNamespacedService({ name: 'web', namespace: ns.name });
    expect(active.spec?.selector?.['greenlight.dev/color']).toBe('green');
  });
});
