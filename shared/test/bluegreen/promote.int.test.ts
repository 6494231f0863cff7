// promote, rollback and abort against testenv's real control plane: real Deployments roll out on KWOK nodes, the
// EndpointSlice controller fills the Services' slices, the Lease lock is a real Lease. GitHub is the one fake.
import { NetworkingV1Api, type V1PolicyRule } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GitHubFake, startGitHubFake } from '../../../test/support/github-fake.ts';
import {
  faultProxy,
  kubeConfig,
  serviceAccountKubeconfig,
  type TestNamespace,
} from '../../../testenv/src/index.ts';
import { abortRelease } from '../../src/bluegreen/abort.ts';
import { type PromoteOptions, promoteRelease } from '../../src/bluegreen/promote.ts';
import { rollbackRelease } from '../../src/bluegreen/rollback.ts';
import { startDeployment } from '../../src/github/deployments.ts';
import { defaultGates } from '../../src/health/spec.ts';
import { connect, type Kube, kubeFromConfig } from '../../src/kube/client.ts';
import { GreenlightError } from '../../src/runtime/errors.ts';
import type { CliHost } from '../../src/runtime/host.ts';
import {
  APP,
  activeSelectorColor,
  colorDeploymentObject,
  currentRecord,
  digests,
  ENVIRONMENT,
  recordingHost,
  runContext,
  setupBlueGreen,
  testCluster,
  waitForDeployment,
  waitForSelector,
} from './promote-fixture.ts';

let fake: GitHubFake;
const namespaces: TestNamespace[] = [];
beforeAll(async () => {
  fake = await startGitHubFake();
});
afterAll(async () => {
  await fake.close();
  for (const ns of namespaces) await ns.delete();
});

async function cluster(prefix: string): Promise<{ kube: Kube; namespace: string }> {
  const { kube, namespace } = await testCluster(prefix);
  namespaces.push(namespace);
  return { kube, namespace: namespace.name };
}

function options(
  kube: Kube,
  namespace: string,
  host: CliHost,
  extra: Partial<PromoteOptions> = {},
): PromoteOptions {
  return {
    kube,
    app: APP,
    namespace,
    environment: ENVIRONMENT,
    ...runContext(host),
    verifyForMs: 0,
    scaleDownDelayMs: 500,
    keepPrevious: false,
    route: 'service',
    timeoutMs: 60_000,
    gates: defaultGates(),
    ...extra,
  };
}

async function replicasOf(kube: Kube, namespace: string, color: string): Promise<number | undefined> {
  return (await kube.apps.readNamespacedDeployment({ name: `${APP}-${color}`, namespace })).spec?.replicas;
}

describe('promote against testenv', () => {
  it('flips to the candidate, records it, posts GitHub statuses and scales the previous colour down', async () => {
    const { kube, namespace } = await cluster('promote-flip');
    await setupBlueGreen(kube, namespace, { live: 'blue' });
    const { host, log } = recordingHost();
    const env = {
      GITHUB_REPOSITORY: 'octo/shop',
      GITHUB_SHA: 'a'.repeat(40),
      GITHUB_API_URL: fake.url,
      GITHUB_RUN_ID: '77',
    };
    const outcome = await promoteRelease(
      options(kube, namespace, host, {
        env,
        environmentUrl: 'https://shop.example.com',
        expectedDigest: digests.green,
        verifyForMs: 2_000,
        verifyIntervalMs: 500,
        github: (description, payload) =>
          startDeployment({
            token: 'ghs_testtoken123',
            environment: ENVIRONMENT,
            description,
            payload,
            env,
            host,
          }),
      }),
    );
    expect(outcome).toMatchObject({
      activeColor: 'green',
      previousColor: 'blue',
      revision: 2,
      rolledBack: false,
    });
    expect(outcome.census?.ready.green).toBe(2);
    expect(outcome.census?.ready.blue).toBe(0);
    expect(outcome.verification?.passed).toBe(true);
    expect(await activeSelectorColor(kube, namespace)).toBe('green');
    const record = await currentRecord(kube, namespace);
    expect(record.revisions.map((r) => `${r.revision}:${r.color}:${r.status}`)).toEqual([
      '1:blue:previous',
      '2:green:active',
    ]);
    expect(await replicasOf(kube, namespace, 'blue')).toBe(0);
    expect(await replicasOf(kube, namespace, 'green')).toBe(2);
    const statuses = [...fake.deployments.values()].at(-1)?.statuses ?? [];
    expect(statuses.map((s) => s.state)).toEqual(['in_progress', 'success']);
    expect(statuses[1]?.environment_url).toBe('https://shop.example.com');
    expect(fake.violations).toEqual([]);
    expect(log()).not.toContain('ghs_testtoken123');
    // The lock is released: the Lease is gone.
    const leases = await kube.coordination.listNamespacedLease({ namespace });
    expect(leases.items.map((l) => l.metadata?.name)).toEqual([]);
  });

  it('has nothing to promote on a re-run after success, and leaves everything as it is', async () => {
    const { kube, namespace } = await cluster('promote-rerun');
    await setupBlueGreen(kube, namespace, { live: 'blue' });
    const first = recordingHost();
    await promoteRelease(options(kube, namespace, first.host, { keepPrevious: true }));
    const again = recordingHost();
    const outcome = await promoteRelease(options(kube, namespace, again.host, { keepPrevious: true }));
    expect(outcome.message).toMatch(/nothing to promote: revision 2 on green is already active/);
    expect(outcome.activeColor).toBe('green');
    expect(await activeSelectorColor(kube, namespace)).toBe('green');
    expect(await replicasOf(kube, namespace, 'blue')).toBe(2);
  });

  it('refuses when nothing was deployed, naming the record', async () => {
    const { kube, namespace } = await cluster('promote-empty');
    const { host } = recordingHost();
    const run = promoteRelease(options(kube, namespace, host));
    await expect(run).rejects.toThrow(GreenlightError);
    await expect(run).rejects.toThrow(
      /ConfigMap .*greenlight-release-api-production.*nothing to promote.*deploy-bluegreen/,
    );
  });

  it('refuses a wrong expected digest and leaves the live colour', async () => {
    const { kube, namespace } = await cluster('promote-digest');
    await setupBlueGreen(kube, namespace, { live: 'blue' });
    const { host } = recordingHost();
    const run = promoteRelease(options(kube, namespace, host, { expectedDigest: digests.blue }));
    await expect(run).rejects.toThrow(/runs sha256:9{64}, not the expected sha256:b{64}/);
    expect(await activeSelectorColor(kube, namespace)).toBe('blue');
    expect((await currentRecord(kube, namespace)).revisions.map((r) => r.status)).toEqual([
      'active',
      'candidate',
    ]);
  });

  it("refuses a candidate that died since deploy, with the pods' reason, and leaves the live colour", async () => {
    const { kube, namespace } = await cluster('promote-died');
    await setupBlueGreen(kube, namespace, { live: 'blue', candidateRecreate: true });
    // The candidate's pods start crash-looping after the deploy recorded it ready.
    await kube.apps.replaceNamespacedDeployment({
      name: `${APP}-green`,
      namespace,
      body: colorDeploymentObject(
        namespace,
        'green',
        2,
        { 'testenv.greenlight.dev/crash-loop': 'true' },
        true,
      ),
    });
    await waitForDeployment(
      kube,
      namespace,
      'green',
      (d) => (d.status?.readyReplicas ?? 0) === 0 && (d.status?.replicas ?? 0) > 0,
    );
    const { host } = recordingHost();
    const run = promoteRelease(options(kube, namespace, host));
    await expect(run).rejects.toThrow(
      /re-check the candidate failed on Deployment .*api-green: only 0 of 2 replicas are ready/,
    );
    expect(await activeSelectorColor(kube, namespace)).toBe('blue');
  });

  it('serialises two promotes at once: one flips, the other then finds nothing to promote', async () => {
    const { kube, namespace } = await cluster('promote-twice');
    await setupBlueGreen(kube, namespace, { live: 'blue' });
    const a = recordingHost();
    const b = recordingHost();
    const results = await Promise.allSettled([
      promoteRelease(options(kube, namespace, a.host, { keepPrevious: true, env: { GITHUB_RUN_ID: '1' } })),
      promoteRelease(options(kube, namespace, b.host, { keepPrevious: true, env: { GITHUB_RUN_ID: '2' } })),
    ]);
    const messages = results.map((r) => (r.status === 'fulfilled' ? r.value.message : String(r.reason)));
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
    expect(messages.filter((m) => /is live on green/.test(m))).toHaveLength(1);
    expect(messages.filter((m) => /nothing to promote/.test(m))).toHaveLength(1);
    expect(`${a.log()}\n${b.log()}`).toMatch(/Waiting for github:/);
    expect(await activeSelectorColor(kube, namespace)).toBe('green');
  });
  it('switches traffic back when the job is cancelled during the verification window', async () => {
    const { kube, namespace } = await cluster('promote-cancel');
    await setupBlueGreen(kube, namespace, { live: 'blue' });
    const { host, log } = recordingHost();
    const cancel = new AbortController();
    const running = promoteRelease({
      ...options(kube, namespace, host, { verifyForMs: 60_000, verifyIntervalMs: 500 }),
      signal: cancel.signal,
    });
    await waitForSelector(kube, namespace, 'green');
    cancel.abort(new Error('cancelled by SIGTERM'));
    await expect(running).rejects.toThrow(
      /job was cancelled \(cancelled by SIGTERM\); traffic was switched back to blue/,
    );
    expect(log()).toMatch(/nothing is left half-switched/);
    expect(await activeSelectorColor(kube, namespace)).toBe('blue');
    // The candidate stays a candidate, ready to be promoted again; the lock is free.
    expect((await currentRecord(kube, namespace)).revisions.map((r) => r.status)).toEqual([
      'active',
      'candidate',
    ]);
    expect((await kube.coordination.listNamespacedLease({ namespace })).items).toEqual([]);
  });
});

describe('route: ingress', () => {
  it('moves the Ingress backend from the live colour Service to the candidate colour Service', async () => {
    const { kube, namespace } = await cluster('promote-ingress');
    await setupBlueGreen(kube, namespace, { live: 'blue' });
    for (const color of ['blue', 'green'] as const) {
      await kube.core.createNamespacedService({
        namespace,
        body: {
          metadata: { name: `${APP}-${color}`, namespace },
          spec: {
            selector: { 'greenlight.dev/app': APP, 'greenlight.dev/color': color },
            ports: [{ name: 'http', port: 80, targetPort: 8080 }],
          },
        },
      });
    }
    const networking = kube.config.makeApiClient(NetworkingV1Api);
    const backend = (name: string) => ({ service: { name, port: { number: 80 } } });
    await networking.createNamespacedIngress({
      namespace,
      body: {
        metadata: { name: 'shop', namespace },
        spec: {
          rules: [
            {
              host: 'shop.example.com',
              http: {
                paths: [
                  { path: '/api', pathType: 'Prefix', backend: backend(`${APP}-blue`) },
                  { path: '/', pathType: 'Prefix', backend: backend('frontend') },
                ],
              },
            },
          ],
        },
      },
    });
    const { host, log } = recordingHost();
    const outcome = await promoteRelease(
      options(kube, namespace, host, { route: 'ingress', keepPrevious: true }),
    );
    expect(outcome.activeColor).toBe('green');
    expect(outcome.census?.ready.green).toBe(2);
    const ingress = await networking.readNamespacedIngress({ name: 'shop', namespace });
    expect(ingress.spec?.rules?.[0]?.http?.paths.map((p) => p.backend.service?.name)).toEqual([
      `${APP}-green`,
      'frontend',
    ]);
    expect(log()).toMatch(/Ingress shop: shop.example.com\/api -> api-green/);
    // The active Service is not part of an ingress route: it is left as it was.
    expect(await activeSelectorColor(kube, namespace)).toBe('blue');
  });
});

describe('a switch that fails half-way, through the fault proxy', () => {
  it('puts back the Services it already switched and fails naming the one that failed', async () => {
    const { kube: admin, namespace } = await cluster('promote-halfway');
    await setupBlueGreen(admin, namespace, { live: 'blue' });
    await admin.core.createNamespacedService({
      namespace,
      body: {
        metadata: { name: `${APP}-grpc`, namespace },
        spec: {
          selector: { 'greenlight.dev/app': APP, 'greenlight.dev/color': 'blue' },
          ports: [{ name: 'grpc', port: 9090, targetPort: 9090 }],
        },
      },
    });
    // The same cluster through the fault proxy: the patch of the second Service is answered 503.
    const kube = kubeFromConfig(kubeConfig({ viaProxy: true }));
    const { host, log } = recordingHost();
    const run = faultProxy.with(
      { kind: 'status', status: 503, method: 'PATCH', path: `/namespaces/${namespace}/services/${APP}-grpc` },
      () => promoteRelease(options(kube, namespace, host)),
    );
    await expect(run).rejects.toThrow(
      /switch traffic to green failed on Service .*api-grpc: the API server answered 503/,
    );
    expect(log()).toMatch(
      /Service api: selector put back to greenlight.dev\/app=api,greenlight.dev\/color=blue/,
    );
    expect(await activeSelectorColor(admin, namespace)).toBe('blue');
    const grpc = await admin.core.readNamespacedService({ name: `${APP}-grpc`, namespace });
    expect(grpc.spec?.selector?.['greenlight.dev/color']).toBe('blue');
    expect((await currentRecord(admin, namespace)).revisions.map((r) => r.status)).toEqual([
      'active',
      'candidate',
    ]);
  });
});

describe('least privilege', () => {
  const rules = (servicesVerbs: string[]): V1PolicyRule[] => [
    { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'create', 'update'] },
    {
      apiGroups: ['coordination.k8s.io'],
      resources: ['leases'],
      verbs: ['get', 'list', 'watch', 'create', 'update', 'delete'],
    },
    { apiGroups: [''], resources: ['services'], verbs: servicesVerbs },
    { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
    { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list', 'watch'] },
    { apiGroups: ['apps'], resources: ['deployments/scale'], verbs: ['patch'] },
    { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
  ];

  it('promotes with exactly the permissions docs/promote.md lists', async () => {
    const { kube: admin, namespace } = await cluster('promote-rbac-ok');
    await setupBlueGreen(admin, namespace, { live: 'blue' });
    const kubeconfig = await serviceAccountKubeconfig(
      namespace,
      'promoter',
      rules(['get', 'list', 'watch', 'patch']),
    );
    const { host } = recordingHost();
    const outcome = await promoteRelease(
      options(connect({ kubeconfig }), namespace, host, { scaleDownDelayMs: 0 }),
    );
    expect(outcome.activeColor).toBe('green');
    expect(await replicasOf(admin, namespace, 'blue')).toBe(0);
  });

  it('names the missing permission when the Role lacks patch on services, and leaves the live colour', async () => {
    const { kube: admin, namespace } = await cluster('promote-rbac-missing');
    await setupBlueGreen(admin, namespace, { live: 'blue' });
    const kubeconfig = await serviceAccountKubeconfig(namespace, 'promoter', rules(['get', 'list', 'watch']));
    const { host } = recordingHost();
    const run = promoteRelease(options(connect({ kubeconfig }), namespace, host));
    await expect(run).rejects.toThrow(/may not patch services in namespace/);
    expect(await activeSelectorColor(admin, namespace)).toBe('blue');
  });
});

describe('rollback and abort against testenv', () => {
  it('rolls back after the previous colour was scaled down: scales it up first, then flips', async () => {
    const { kube, namespace } = await cluster('promote-rollback');
    await setupBlueGreen(kube, namespace, { live: 'blue' });
    const { host } = recordingHost();
    await promoteRelease(options(kube, namespace, host, { scaleDownDelayMs: 0 }));
    expect(await replicasOf(kube, namespace, 'blue')).toBe(0);
    const rb = recordingHost();
    const outcome = await rollbackRelease({ ...options(kube, namespace, rb.host), scaleDownDelayMs: 0 });
    expect(outcome).toMatchObject({
      activeColor: 'blue',
      previousColor: 'green',
      revision: 1,
      rolledBack: true,
    });
    expect(outcome.census?.ready.blue).toBe(2);
    expect(outcome.census?.ready.green).toBe(0);
    expect(rb.log()).toMatch(/api-blue was scaled down: scaling it to 2 before the flip/);
    expect(await activeSelectorColor(kube, namespace)).toBe('blue');
    expect(await replicasOf(kube, namespace, 'green')).toBe(0);
    const record = await currentRecord(kube, namespace);
    expect(record.revisions.map((r) => `${r.revision}:${r.status}`)).toEqual(['1:active', '2:previous']);
    expect(record.revisions[1]?.reason).toMatch(/rolled back to revision 1/);
  });

  it('refuses a rollback with nothing kept, and leaves the live colour', async () => {
    const { kube, namespace } = await cluster('promote-norollback');
    await setupBlueGreen(kube, namespace, { live: 'blue', candidate: false });
    const { host } = recordingHost();
    await expect(rollbackRelease(options(kube, namespace, host))).rejects.toThrow(
      /no earlier revision is kept/,
    );
    expect(await activeSelectorColor(kube, namespace)).toBe('blue');
  });

  it('aborts the candidate: scaled to zero, recorded, the live colour untouched', async () => {
    const { kube, namespace } = await cluster('promote-abort');
    await setupBlueGreen(kube, namespace, { live: 'blue' });
    const liveBefore = await kube.apps.readNamespacedDeployment({ name: `${APP}-blue`, namespace });
    const { host } = recordingHost();
    const outcome = await abortRelease(options(kube, namespace, host));
    expect(outcome.message).toMatch(/candidate revision 2 on green discarded; revision 1 on blue stays live/);
    expect(await replicasOf(kube, namespace, 'green')).toBe(0);
    expect(await activeSelectorColor(kube, namespace)).toBe('blue');
    const liveAfter = await kube.apps.readNamespacedDeployment({ name: `${APP}-blue`, namespace });
    expect(liveAfter.metadata?.generation).toBe(liveBefore.metadata?.generation);
    const record = await currentRecord(kube, namespace);
    expect(record.revisions.map((r) => r.status)).toEqual(['active', 'retired']);
    expect(record.revisions[1]?.reason).toMatch(/aborted by/);
    const again = await abortRelease(options(kube, namespace, host));
    expect(again.message).toMatch(/nothing to abort/);
  });
});
