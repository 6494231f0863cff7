// Environment promotion on testenv: staging and production are two namespaces of the real cluster; the sample
// chart is rendered by the real helm; deploy-bluegreen's core deploys; promote ships staging's exact digest and
// chart version to production, first as production's first release, then as a blue-green flip.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestNamespace,
  kubeConfig,
  loadEnv,
  serviceAccountKubeconfig,
  type TestNamespace,
} from '../../../testenv/src/index.ts';
import { deployBlueGreen } from '../../src/bluegreen/deploy.ts';
import { promoteRelease } from '../../src/bluegreen/promote.ts';
import { renderChart } from '../../src/chart/render.ts';
import { promote } from '../../src/commands/promote.ts';
import { defaultGates } from '../../src/health/spec.ts';
import type { Kube } from '../../src/kube/client.ts';
import { kubeFromConfig } from '../../src/kube/client.ts';
import { activeRevision } from '../../src/release/record.ts';
import { readRecord } from '../../src/release/store.ts';
import { readInputs } from '../../src/runtime/inputs.ts';
import { SummaryBuilder } from '../../src/runtime/summary.ts';
import { recordingHost, runContext } from './promote-fixture.ts';

const root = join(import.meta.dirname, '..', '..', '..');
const CHART = 'examples/chart/demo-app';
const APP = 'demo-app';
const REPOSITORY = 'registry.example.com/shop/demo-app';
const digest = (c: string) => `sha256:${c.repeat(64)}`;

const namespaces: TestNamespace[] = [];
let kube: Kube;
let staging: string;
let production: string;
beforeAll(async () => {
  process.env.GREENLIGHT_HELM = loadEnv().TESTENV_HELM3;
  kube = kubeFromConfig(kubeConfig());
  const a = await createTestNamespace('promote-env-staging');
  const b = await createTestNamespace('promote-env-production');
  namespaces.push(a, b);
  staging = a.name;
  production = b.name;
});
afterAll(async () => {
  for (const ns of namespaces) await ns.delete();
});

/** Deploys `digest` to staging with deploy-bluegreen's core, then promotes it there when it is a candidate. */
async function shipToStaging(d: string): Promise<void> {
  const rendered = await renderChart({ chart: CHART, releaseName: APP, namespace: staging, root });
  const { host } = recordingHost();
  const run = runContext(host);
  const result = await deployBlueGreen(
    kube,
    {
      app: APP,
      namespace: staging,
      environment: 'staging',
      objects: rendered.map((o) => ({ object: o.object, source: o.source.file })),
      images: [`${REPOSITORY}@${d}`],
      gates: defaultGates(),
      timeoutMs: 120_000,
      keepFailed: false,
      holder: 'test:staging',
      origin: { appVersion: '1.0.0', chart: { name: APP, version: '1.0.0' } },
    },
    run,
  );
  if (!result.active) {
    await promoteRelease({
      kube,
      app: APP,
      namespace: staging,
      environment: 'staging',
      ...runContext(host),
      verifyForMs: 0,
      scaleDownDelayMs: 0,
      keepPrevious: false,
      route: 'service',
      timeoutMs: 120_000,
      gates: defaultGates(),
    });
  }
}

/** Runs the promote command as a workflow would: production, from staging. */
async function promoteProduction(extra: Record<string, string> = {}) {
  const raw: Record<string, string> = {
    app: APP,
    namespace: production,
    environment: 'production',
    'from-environment': 'staging',
    'from-namespace': staging,
    chart: CHART,
    set: 'replicas=2',
    'verify-for': '1s',
    'scale-down-delay': '0s',
    kubeconfig: readFileSync(loadEnv().KUBECONFIG, 'utf8'),
    ...extra,
  };
  const { host, log } = recordingHost();
  const inputs = readInputs(
    promote.inputs,
    (name) => raw[name],
    (secret) => host.secret(secret),
  );
  const summary = new SummaryBuilder();
  const outputs = await promote.run(inputs, { ...runContext(host, { GITHUB_WORKSPACE: root }), summary });
  return { outputs, log, summary };
}

async function liveIn(namespace: string, environment: string) {
  const { record } = await readRecord(kube, { namespace, app: APP, environment });
  return activeRevision(record);
}

describe('promote from-environment', () => {
  it('refuses when the source environment has nothing live', async () => {
    await expect(promoteProduction()).rejects.toThrow(/no revision of demo-app is active in staging/);
  });

  it("ships staging's exact digest and chart version to production, then flips on the next release", async () => {
    await shipToStaging(digest('1'));
    const first = await promoteProduction();
    expect(first.outputs.image).toBe(`${REPOSITORY}@${digest('1')}`);
    const prodFirst = await liveIn(production, 'production');
    expect(prodFirst?.chart).toEqual({ name: APP, version: '1.0.0' });
    expect(prodFirst?.images[0]?.digest).toBe(digest('1'));
    // The production Deployment runs the digest, with production's own values (2 replicas, staging has 3).
    const live = await kube.apps.readNamespacedDeployment({
      name: `${APP}-${prodFirst?.color}`,
      namespace: production,
    });
    expect(live.spec?.template.spec?.containers[0]?.image).toBe(`${REPOSITORY}@${digest('1')}`);
    expect(live.spec?.replicas).toBe(2);

    await shipToStaging(digest('2'));
    const second = await promoteProduction();
    expect(second.outputs['rolled-back']).toBe('false');
    expect(second.outputs.image).toBe(`${REPOSITORY}@${digest('2')}`);
    expect(second.outputs['active-color']).not.toBe(prodFirst?.color);
    expect(second.outputs['previous-color']).toBe(prodFirst?.color);
    const service = await kube.core.readNamespacedService({ name: APP, namespace: production });
    expect(service.spec?.selector?.['greenlight.dev/color']).toBe(second.outputs['active-color']);

    const third = await promoteProduction();
    expect(third.log()).toMatch(/production already runs staging's revision/);
    expect(third.outputs.image).toBe(`${REPOSITORY}@${digest('2')}`);
  });

  it('reads the source through from-kubeconfig when given: its own identity, its own permissions', async () => {
    const reader = await serviceAccountKubeconfig(staging, 'record-reader', [
      { apiGroups: [''], resources: ['configmaps'], verbs: ['get'] },
    ]);
    const allowed = await promoteProduction({ 'from-kubeconfig': reader });
    expect(allowed.log()).toMatch(/production already runs staging's revision/);
    const blind = await serviceAccountKubeconfig(staging, 'no-reader', [
      { apiGroups: [''], resources: ['pods'], verbs: ['get'] },
    ]);
    await expect(promoteProduction({ 'from-kubeconfig': blind })).rejects.toThrow(
      /system:serviceaccount:[^:]+:no-reader may not get configmaps in namespace/,
    );
  });
});
