import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runBundle } from '../../../test/support/runner.ts';
import { createTestNamespace, loadEnv, type TestNamespace } from '../../../testenv/src/index.ts';
import { deployBluegreen } from '../../src/commands/deploy-bluegreen.ts';
import { execute } from '../../src/runtime/command.ts';
import { CliHost } from '../../src/runtime/host.ts';
import { appObjects, image, testKube } from './fixtures.ts';

const kube = testKube();

/** A small chart: a Deployment, its Service and ConfigMap, the image and a message from values. */
function writeChart(dir: string): string {
  const chart = join(dir, 'chart');
  mkdirSync(join(chart, 'templates'), { recursive: true });
  writeFileSync(join(chart, 'Chart.yaml'), 'apiVersion: v2\nname: api\nversion: 0.3.0\nappVersion: 1.4.0\n');
  writeFileSync(
    join(chart, 'values.yaml'),
    `image: ${loadEnv().TESTENV_REGISTRY}/shop/api:latest\nmessage: hello\nreplicas: 2\n`,
  );
  writeFileSync(
    join(chart, 'templates', 'deployment.yaml'),
    [
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata:',
      '  name: {{ .Release.Name }}',
      '  labels:',
      '    app: {{ .Release.Name }}',
      '    app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}',
      'spec:',
      '  replicas: {{ .Values.replicas }}',
      '  selector:',
      '    matchLabels:',
      '      app: {{ .Release.Name }}',
      '  template:',
      '    metadata:',
      '      labels:',
      '        app: {{ .Release.Name }}',
      '    spec:',
      '      containers:',
      '        - name: api',
      '          image: {{ .Values.image }}',
      '          envFrom:',
      '            - configMapRef:',
      '                name: {{ .Release.Name }}-config',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(chart, 'templates', 'service.yaml'),
    'apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  selector:\n    app: {{ .Release.Name }}\n  ports:\n    - port: 80\n      targetPort: 8080\n',
  );
  writeFileSync(
    join(chart, 'templates', 'configmap.yaml'),
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-config\ndata:\n  MESSAGE: {{ .Values.message | quote }}\n',
  );
  return chart;
}

async function runCommand(inputs: Record<string, string>, env: Record<string, string>) {
  const lines: string[] = [];
  const summaryFile = join(mkdtempSync(join(tmpdir(), 'greenlight-summary-')), 'summary.md');
  writeFileSync(summaryFile, '');
  const host = new CliHost({ write: (line) => lines.push(line), summaryFile });
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const outputs = await execute(
      deployBluegreen,
      (name) => inputs[name],
      host,
      new AbortController().signal,
    );
    return { outputs, lines, summary: readFileSync(summaryFile, 'utf8') };
  } finally {
    for (const key of Object.keys(env)) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
    process.exitCode = 0;
  }
}

describe('the deploy-bluegreen command', () => {
  let ns: TestNamespace;
  let dir: string;
  beforeAll(async () => {
    ns = await createTestNamespace('deploy-command');
    dir = mkdtempSync(join(tmpdir(), 'greenlight-chart-'));
    writeChart(dir);
  });
  afterAll(async () => {
    await ns?.delete();
  });

  it('renders a chart with Helm 3 for the first deploy and Helm 4 for the second', async () => {
    const env = loadEnv();
    const common = {
      app: 'api',
      namespace: ns.name,
      environment: 'staging',
      chart: 'chart',
      timeout: '60s',
    };
    const first = await runCommand(
      { ...common, images: image('c'), set: 'message=first' },
      {
        GREENLIGHT_HELM: env.TESTENV_HELM3,
        KUBECONFIG: env.KUBECONFIG,
        GITHUB_WORKSPACE: dir,
        GITHUB_SHA: 'sha-one',
      },
    );
    expect(first.outputs, first.lines.join('\n')).toBeDefined();
    expect(first.outputs).toMatchObject({
      color: 'blue',
      'previous-color': '',
      revision: '1',
      'ready-for-promotion': 'false',
    });
    const release = JSON.parse(first.outputs?.release ?? '{}');
    expect(release).toMatchObject({
      active: true,
      appVersion: '1.4.0',
      chart: { name: 'api', version: '0.3.0' },
      gitSha: 'sha-one',
    });
    expect(first.summary).toContain('```mermaid');
    expect(first.summary).toContain('Health gates');

    const second = await runCommand(
      { ...common, images: image('d'), set: 'message=second' },
      { GREENLIGHT_HELM: env.TESTENV_HELM4, KUBECONFIG: env.KUBECONFIG, GITHUB_WORKSPACE: dir },
    );
    expect(second.outputs, second.lines.join('\n')).toBeDefined();
    expect(second.outputs).toMatchObject({
      color: 'green',
      'previous-color': 'blue',
      revision: '2',
      'ready-for-promotion': 'true',
    });
    expect(second.outputs?.['preview-url']).toBe(`http://api-preview.${ns.name}.svc`);
    const green = await kube.apps.readNamespacedDeployment({ name: 'api-green', namespace: ns.name });
    const configName = green.spec?.template.spec?.containers[0]?.envFrom?.[0]?.configMapRef?.name as string;
    const config = await kube.core.readNamespacedConfigMap({ name: configName, namespace: ns.name });
    expect(config.data).toEqual({ MESSAGE: 'second' });
    expect(green.spec?.template.spec?.containers[0]?.image).toBe(image('d'));
  });

  it('deploys a chart pulled from an OCI registry at a given version', async () => {
    const env = loadEnv();
    const oci = await createTestNamespace('deploy-oci');
    try {
      const packages = mkdtempSync(join(tmpdir(), 'greenlight-oci-'));
      execFileSync(env.TESTENV_HELM4, ['package', join(dir, 'chart'), '--destination', packages], {
        stdio: 'pipe',
      });
      execFileSync(env.TESTENV_HELM4, [
        'push',
        join(packages, 'api-0.3.0.tgz'),
        `oci://${env.TESTENV_REGISTRY}/greenlight-deploy-test`,
        '--plain-http',
      ]);
      const run = await runCommand(
        {
          app: 'api',
          namespace: oci.name,
          environment: 'staging',
          chart: `oci://${env.TESTENV_REGISTRY}/greenlight-deploy-test/api`,
          'chart-version': '0.3.0',
          images: image('e'),
        },
        { GREENLIGHT_HELM: env.TESTENV_HELM4, KUBECONFIG: env.KUBECONFIG, GITHUB_WORKSPACE: dir },
      );
      expect(run.outputs, run.lines.join('\n')).toBeDefined();
      expect(JSON.parse(run.outputs?.release ?? '{}')).toMatchObject({
        chart: { name: 'api', version: '0.3.0' },
        appVersion: '1.4.0',
      });
    } finally {
      await oci.delete();
    }
  });

  it('fails with the reason when an images entry matches no container', async () => {
    const env = loadEnv();
    const run = await runCommand(
      {
        app: 'api',
        namespace: ns.name,
        environment: 'staging',
        chart: 'chart',
        images: `registry.example.com/other/app@sha256:${'e'.repeat(64)}`,
      },
      { GREENLIGHT_HELM: env.TESTENV_HELM3, KUBECONFIG: env.KUBECONFIG, GITHUB_WORKSPACE: dir },
    );
    expect(run.outputs).toBeUndefined();
    expect(run.lines.join('\n')).toContain('matches no container');
  });

  it('points a refused object at its template file and line', async () => {
    const env = loadEnv();
    const lines: string[] = [];
    const host = new CliHost({ write: (line) => lines.push(line) });
    const annotations: { file?: string; line?: number; message: string }[] = [];
    host.annotate = (_level, message, place) =>
      annotations.push({ message, file: place?.file, line: place?.line });
    const saved = {
      GREENLIGHT_HELM: process.env.GREENLIGHT_HELM,
      KUBECONFIG: process.env.KUBECONFIG,
      GITHUB_WORKSPACE: process.env.GITHUB_WORKSPACE,
    };
    Object.assign(process.env, {
      GREENLIGHT_HELM: env.TESTENV_HELM3,
      KUBECONFIG: env.KUBECONFIG,
      GITHUB_WORKSPACE: dir,
    });
    try {
      const inputs: Record<string, string> = {
        app: 'api',
        namespace: ns.name,
        environment: 'staging',
        chart: 'chart',
        set: 'replicas=-1',
      };
      const outputs = await execute(
        deployBluegreen,
        (name) => inputs[name],
        host,
        new AbortController().signal,
      );
      expect(outputs).toBeUndefined();
    } finally {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
      process.exitCode = 0;
    }
    expect(annotations).toHaveLength(1);
    expect(annotations[0]?.message).toContain('spec.replicas');
    expect(annotations[0]?.file).toBe('chart/templates/deployment.yaml');
    expect(annotations[0]?.line).toBeGreaterThan(0);
  });

  it('the committed bundle deploys as the runner runs it, with the kubeconfig as input content, never printed', async () => {
    const env = loadEnv();
    const manifests = join(dir, 'manifests.yaml');
    writeFileSync(
      manifests,
      appObjects({ version: '9.0.0' })
        .map((o) => stringify(o.object))
        .join('---\n'),
    );
    const kubeconfig = readFileSync(env.KUBECONFIG, 'utf8');
    // One environment per namespace: the Service and Deployment names carry the app, not the environment.
    const prod = await createTestNamespace('deploy-bundle');
    const run = runBundle('actions/deploy-bluegreen/dist/index.js', {
      app: 'api',
      namespace: prod.name,
      environment: 'production',
      manifests,
      images: image('f'),
      timeout: '60s',
      kubeconfig,
    });
    await prod.delete();
    expect(run.status, run.stdout).toBe(0);
    expect(run.outputs).toContain('color<<');
    expect(run.outputs).toMatch(/revision<<\S+\n1\n/);
    expect(run.summary).toContain('deploy api to production');
    // The runner swallows `::add-mask::` commands (that is how masking reaches it); nothing else may hold a secret.
    const printed = run.stdout
      .split('\n')
      .filter((line) => !line.startsWith('::add-mask::'))
      .join('\n');
    expect(run.stdout).toContain('::add-mask::');
    const secretLines = kubeconfig
      .split('\n')
      .filter((line) => /(token|client-key-data|client-certificate-data):/.test(line));
    for (const line of secretLines) {
      const secret = line.split(':').slice(1).join(':').trim();
      expect(printed).not.toContain(secret);
      expect(run.summary).not.toContain(secret);
    }
  });
});
