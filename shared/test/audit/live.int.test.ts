// Live mode against testenv's real control plane: a crash-looping pod (KWOK, driven by the pod-template
// annotation) and a leftover candidate colour, audited through the `audit` command as the CLI runs it.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, type V1Deployment, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestNamespace,
  kubeConfig,
  loadEnv,
  podBehaviour,
  serviceAccountKubeconfig,
  type TestNamespace,
  watchUntil,
} from '../../../testenv/src/index.ts';
import { audit } from '../../src/commands/audit.ts';
import { encodeRecord, type ReleaseRevision, recordLabels, recordName } from '../../src/release/record.ts';
import { execute } from '../../src/runtime/command.ts';
import { CliHost } from '../../src/runtime/host.ts';

const env = loadEnv({ apply: true });
const kc = kubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const apps = kc.makeApiClient(AppsV1Api);
let ns: TestNamespace;

function colourDeployment(namespace: string, color: 'blue' | 'green', replicas: number): V1Deployment {
  const labels = { 'greenlight.dev/app': 'shop', 'greenlight.dev/color': color };
  return {
    metadata: { name: `shop-${color}`, namespace, labels },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { containers: [{ name: 'web', image: `${env.TESTENV_REGISTRY}/shop/web:1.0.0` }] },
      },
    },
  };
}

function revision(color: 'blue' | 'green'): ReleaseRevision {
  const at = new Date().toISOString();
  return {
    revision: 1,
    color,
    status: 'active',
    deployment: `shop-${color}`,
    images: [
      { repository: `${env.TESTENV_REGISTRY}/shop/web`, reference: `${env.TESTENV_REGISTRY}/shop/web:1.0.0` },
    ],
    createdAt: at,
    updatedAt: at,
    promotedAt: at,
    ready: true,
    gates: [],
  };
}

/** Runs the audit command with `inputs` as the CLI would, and returns its outputs, log and JSON report. */
async function runAuditCommand(inputs: Record<string, string>) {
  const lines: string[] = [];
  const host = new CliHost({ write: (line) => lines.push(line) });
  const dir = mkdtempSync(join(tmpdir(), 'gl-live-'));
  const jsonFile = join(dir, 'audit.json');
  const all: Record<string, string> = { format: 'annotations,json', 'json-file': jsonFile, ...inputs };
  const outputs = await execute(audit, (name) => all[name], host, new AbortController().signal);
  let report:
    | { findings: { ruleId: string; object: { kind: string; name: string }; message: string }[] }
    | undefined;
  try {
    report = JSON.parse(readFileSync(jsonFile, 'utf8'));
  } catch {
    report = undefined;
  }
  return { outputs, lines, report, host };
}

beforeAll(async () => {
  ns = await createTestNamespace('audit-live', kc);
  const namespace = ns.name;
  // The live colour, blue, and green scaled up with no record naming it: a leftover candidate.
  await apps.createNamespacedDeployment({ namespace, body: colourDeployment(namespace, 'blue', 2) });
  await apps.createNamespacedDeployment({ namespace, body: colourDeployment(namespace, 'green', 1) });
  await core.createNamespacedService({
    namespace,
    body: {
      metadata: { name: 'shop', namespace },
      spec: {
        selector: { 'greenlight.dev/app': 'shop', 'greenlight.dev/color': 'blue' },
        ports: [{ port: 80 }],
      },
    },
  });
  await core.createNamespacedConfigMap({
    namespace,
    body: {
      metadata: { name: recordName('shop', 'staging'), namespace, labels: recordLabels('shop', 'staging') },
      data: encodeRecord({
        app: 'shop',
        environment: 'staging',
        namespace,
        historyLimit: 10,
        revisions: [revision('blue')],
      }),
    },
  });
  // A worker whose container crashes over and over.
  await apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name: 'worker', namespace },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'worker' } },
        template: {
          metadata: { labels: { app: 'worker' }, annotations: { ...podBehaviour.crashLoop } },
          spec: { containers: [{ name: 'worker', image: `${env.TESTENV_REGISTRY}/shop/worker:1.0.0` }] },
        },
      },
    },
  });
  await watchUntil(
    kc,
    { path: `/api/v1/namespaces/${namespace}/pods`, labelSelector: 'app=worker' },
    (pods) => {
      for (const pod of pods.values() as Iterable<V1Pod>) {
        if ((pod.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 3) return true;
      }
      return undefined;
    },
    { timeoutMs: 120_000, what: 'the worker pod to restart 3 times' },
  );
  await watchUntil(
    kc,
    { path: `/apis/apps/v1/namespaces/${namespace}/deployments` },
    (deployments) =>
      [...(deployments.values() as Iterable<V1Deployment>)].every(
        (d) => d.metadata?.name === 'worker' || (d.status?.readyReplicas ?? 0) === d.spec?.replicas,
      ) && deployments.size === 3
        ? true
        : undefined,
    { timeoutMs: 120_000, what: 'the colour Deployments to be ready' },
  );
}, 300_000);

afterAll(async () => {
  await ns?.delete();
});

describe('audit of a live cluster', () => {
  it('reports the crash loop and the leftover candidate, and fails on the error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gl-live-config-'));
    const config = join(dir, 'audit.yaml');
    writeFileSync(config, 'settings:\n  restartThreshold: 2\n');
    const { outputs, lines, report } = await runAuditCommand({
      cluster: 'true',
      namespaces: ns.name,
      kubeconfig: readFileSync(env.KUBECONFIG, 'utf8'),
      config,
    });
    expect(outputs).toBeUndefined();
    const findings = report?.findings ?? [];
    const crash = findings.find((finding) => finding.ruleId === 'GL-LIVE-001');
    expect(crash?.object.kind).toBe('Pod');
    expect(crash?.object.name).toMatch(/^worker-/);
    expect(crash?.message).toContain('CrashLoopBackOff');
    const leftovers = findings.filter((finding) => finding.ruleId === 'GL-LIVE-003');
    expect(leftovers.map((finding) => finding.object.name)).toEqual(['shop-green']);
    expect(findings.some((finding) => finding.ruleId === 'GL-LIVE-005')).toBe(false);
    expect(lines.some((line) => line.includes('error: GL-LIVE-001'))).toBe(true);
    expect(lines.some((line) => /audit gate failed: \d+ errors? and \d+ warnings? reported/.test(line))).toBe(
      true,
    );
  });

  it('reports drift when the Service is switched by hand', async () => {
    await core.patchNamespacedService({
      name: 'shop',
      namespace: ns.name,
      body: [{ op: 'replace', path: '/spec/selector/greenlight.dev~1color', value: 'green' }],
    });
    const { report } = await runAuditCommand({
      cluster: 'true',
      namespaces: ns.name,
      kubeconfig: readFileSync(env.KUBECONFIG, 'utf8'),
      'fail-on': 'never',
    });
    const drift = report?.findings.find((finding) => finding.ruleId === 'GL-LIVE-005');
    expect(drift?.message).toContain('selects colour green');
  });

  it('finds the crash loop with exactly the shipped rbac/auditor-role.yaml (see auditor-rbac.int.test.ts)', async () => {
    const role = readFileSync(
      join(import.meta.dirname, '..', '..', '..', 'rbac', 'auditor-role.yaml'),
      'utf8',
    );
    const kubeconfig = await serviceAccountKubeconfig(ns.name, 'shipped-auditor', role);
    const config = join(mkdtempSync(join(tmpdir(), 'gl-live-config-')), 'audit.yaml');
    writeFileSync(config, 'settings:\n  restartThreshold: 2\n');
    const { outputs, report } = await runAuditCommand({
      cluster: 'true',
      namespaces: ns.name,
      kubeconfig,
      config,
      'fail-on': 'never',
    });
    expect(outputs?.findings).toBe(String(report?.findings.length));
    expect(report?.findings.some((finding) => finding.ruleId === 'GL-LIVE-001')).toBe(true);
  });

  it('names the missing permission under a least-privilege ServiceAccount', async () => {
    const kubeconfig = await serviceAccountKubeconfig(ns.name, 'auditor', [
      {
        apiGroups: [''],
        resources: ['pods', 'services', 'configmaps', 'persistentvolumeclaims'],
        verbs: ['list'],
      },
    ]);
    const { outputs, lines } = await runAuditCommand({ cluster: 'true', namespaces: ns.name, kubeconfig });
    expect(outputs).toBeUndefined();
    const failure = lines.find((line) => line.includes('list deployments'));
    expect(failure).toContain('permission denied');
    expect(failure).toContain('deployments');
    expect(failure).toContain('rbac/auditor-role.yaml');
    expect(lines.join('\n')).not.toContain(kubeconfig.match(/token: (\S+)/)?.[1] ?? 'no token');
  });
});
