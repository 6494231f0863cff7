// renderChart against the real helm 3 and helm 4 binaries of testenv, on the sample chart of the repository.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadEnv } from '../../../testenv/src/index.ts';
import { runAudit } from '../../src/audit/run.ts';
import { helmMajorVersion } from '../../src/chart/helm.ts';
import { renderChart } from '../../src/chart/render.ts';
import { GreenlightError } from '../../src/runtime/errors.ts';

const root = join(import.meta.dirname, '..', '..', '..');
const env = loadEnv();
const CHART = 'examples/chart/demo-app';
const TEMPLATE = `${CHART}/templates/deployment.yaml`;
const CONTAINER = ['spec', 'template', 'spec', 'containers', 0];

describe.each([
  ['helm 3', env.TESTENV_HELM3, 3],
  ['helm 4', env.TESTENV_HELM4, 4],
])('renderChart with %s', (_name, helm, major) => {
  it('runs the expected major version', async () => {
    expect(await helmMajorVersion({ helm })).toBe(major);
  });

  it('renders the sample chart with values files and --set, keeping template files and lines', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gl-values-'));
    const values = join(dir, 'production.yaml');
    writeFileSync(values, 'replicas: 5\nimage:\n  tag: "2.0.0"\n');
    const objects = await renderChart({
      chart: CHART,
      root,
      helm,
      releaseName: 'shop',
      namespace: 'prod',
      valuesFiles: [values],
      set: ['image.tag=2.0.1', 'greeting=hi'],
    });
    expect(objects.map((o) => o.object.kind).sort()).toEqual([
      'ConfigMap',
      'Deployment',
      'PodDisruptionBudget',
      'Service',
    ]);
    const deployment = objects.find((o) => o.object.kind === 'Deployment');
    const spec = deployment?.object as {
      metadata: { name: string };
      spec: { replicas: number; template: { spec: { containers: { image: string }[] } } };
    };
    expect(spec.metadata.name).toBe('shop');
    expect(spec.spec.replicas).toBe(5);
    expect(spec.spec.template.spec.containers[0]?.image).toBe('registry.example.com/shop/demo-app:2.0.1');
    expect(deployment?.source).toEqual({ file: TEMPLATE, line: 2 });
    expect(deployment?.locate(['spec', 'replicas'])).toEqual({ file: TEMPLATE, line: 8 });
    expect(deployment?.locate([...CONTAINER, 'image'])).toEqual({ file: TEMPLATE, line: 33 });
    expect(deployment?.locate([...CONTAINER, 'resources', 'limits', 'memory'])).toEqual({
      file: TEMPLATE,
      line: 52,
    });
    expect(deployment?.locate([...CONTAINER, 'livenessProbe', 'periodSeconds'])).toEqual({
      file: TEMPLATE,
      line: 50,
    });
    // The values behind a field: a user's values file before the chart's own; nothing for a --set value.
    expect(deployment?.valueSource?.(['spec', 'replicas'])).toEqual({ file: values, line: 1 });
    expect(deployment?.valueSource?.([...CONTAINER, 'resources', 'limits', 'memory'])).toEqual({
      file: `${CHART}/values.yaml`,
      line: 16,
    });
    expect(deployment?.valueSource?.([...CONTAINER, 'image'])).toBeUndefined();
    const service = objects.find((o) => o.object.kind === 'Service');
    expect(service?.source.file).toBe(`${CHART}/templates/service.yaml`);
  });

  it('fails with the template file and line helm names', async () => {
    const dir = mkdtempSync(join(root, '.testenv', 'gl-broken-'));
    cpSync(join(root, CHART), join(dir, 'demo-app'), { recursive: true });
    writeFileSync(
      join(dir, 'demo-app', 'templates', 'broken.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ nope .Release.Name }}\n',
    );
    let caught: unknown;
    try {
      await renderChart({ chart: join(dir, 'demo-app'), root, helm });
    } catch (error) {
      caught = error;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(caught).toBeInstanceOf(GreenlightError);
    const error = caught as GreenlightError;
    expect(error.message).toContain('"nope"');
    expect(error.file).toMatch(/^\.testenv\/gl-broken-\w+\/demo-app\/templates\/broken\.yaml$/);
    expect(error.line).toBe(4);
  });

  it('renders a chart pulled from an OCI registry', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gl-oci-'));
    execFileSync(helm, ['package', join(root, CHART), '--destination', dir, '--version', `1.0.${major}`]);
    execFileSync(helm, [
      'push',
      join(dir, `demo-app-1.0.${major}.tgz`),
      `oci://${env.TESTENV_REGISTRY}/charts`,
      '--plain-http',
    ]);
    const objects = await renderChart({
      chart: `oci://${env.TESTENV_REGISTRY}/charts/demo-app`,
      version: `1.0.${major}`,
      plainHttp: true,
      root,
      helm,
    });
    const deployment = objects.find((o) => o.object.kind === 'Deployment');
    expect(deployment?.source).toEqual({ file: 'demo-app/templates/deployment.yaml' });
  });

  it('checks the chart version against a git base', async () => {
    const repo = mkdtempSync(join(tmpdir(), 'gl-git-'));
    cpSync(join(root, CHART), join(repo, 'chart'), { recursive: true });
    const git = (...args: string[]) =>
      execFileSync('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], {
        stdio: 'pipe',
      });
    git('init', '-q', '-b', 'main');
    git('add', '.');
    git('commit', '-q', '-m', 'chart');
    writeFileSync(
      join(repo, 'chart', 'templates', 'extra.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n',
    );
    const result = await runAudit({ paths: ['chart'], root: repo, helm, gitBase: 'main' });
    const stale = result.findings.find((finding) => finding.ruleId === 'GL-VER-003');
    expect(stale).toMatchObject({ file: 'chart/Chart.yaml', object: { kind: 'Chart', name: 'demo-app' } });
    expect(stale?.message).toContain('minor bump to 1.1.0');
  });

  it('names the values file line behind a finding', async () => {
    const dir = mkdtempSync(join(root, '.testenv', 'gl-values-'));
    try {
      writeFileSync(join(dir, 'staging.yaml'), '# staging\nreplicas: 1\nimage:\n  tag: latest\n');
      const file = `${dir.slice(root.length + 1)}/staging.yaml`;
      const result = await runAudit({ paths: [CHART], valuesFiles: [file], root, helm });
      expect(result.findings.find((finding) => finding.ruleId === 'GL-IMG-001')).toMatchObject({
        file: TEMPLATE,
        line: 33,
        value: { file, line: 4 },
      });
      expect(result.findings.find((finding) => finding.ruleId === 'GL-AVL-001')?.value).toEqual({
        file,
        line: 2,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('audits the chart and annotates the template line of a finding', async () => {
    const result = await runAudit({ paths: [CHART], set: ['image.tag=latest', 'replicas=1'], root, helm });
    const latest = result.findings.find((finding) => finding.ruleId === 'GL-IMG-001');
    expect(latest).toMatchObject({
      file: TEMPLATE,
      line: 33,
      object: { kind: 'Deployment', name: 'demo-app' },
    });
    const single = result.findings.find((finding) => finding.ruleId === 'GL-AVL-001');
    expect(single).toMatchObject({ file: TEMPLATE, line: 8 });
  });
});
