import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { helmFailure } from '../../src/chart/helm.ts';
import { displayPath, loadManifests, parseManifests, scanFolder } from '../../src/chart/manifests.ts';
import { parseRendered, templateArgs, valuesSources } from '../../src/chart/render.ts';
import { TemplateLines } from '../../src/chart/template-lines.ts';
import { GreenlightError } from '../../src/runtime/errors.ts';

const TWO = `# a leading comment
apiVersion: v1
kind: Service
metadata:
  name: api
spec:
  type: LoadBalancer
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  template:
    spec:
      containers:
        - name: sidecar
          image: proxy:1
        - name: web
          image: api:latest
          resources: {}
`;

describe('parseManifests', () => {
  it('reads every object with the line where it starts', () => {
    const objects = parseManifests(TWO, 'deploy/app.yaml');
    expect(objects.map((o) => [o.object.kind, o.source])).toEqual([
      ['Service', { file: 'deploy/app.yaml', line: 2 }],
      ['Deployment', { file: 'deploy/app.yaml', line: 9 }],
    ]);
  });

  it('locates fields at their real lines, and a missing field at its deepest parent', () => {
    const [, deployment] = parseManifests(TWO, 'app.yaml');
    expect(deployment?.locate(['spec', 'template', 'spec', 'containers', 1, 'image']).line).toBe(20);
    expect(deployment?.locate(['spec', 'template', 'spec', 'containers', 1]).line).toBe(19);
    expect(
      deployment?.locate(['spec', 'template', 'spec', 'containers', 1, 'resources', 'limits']).line,
    ).toBe(21);
    expect(deployment?.locate(['spec', 'replicas']).line).toBe(13);
    expect(deployment?.locate(['spec', 'template', 'spec', 'containers', 7]).line).toBe(16);
  });

  it('skips documents that are not Kubernetes objects and expands Lists', () => {
    const text = `replicas: 3\n---\n\n---\napiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata:\n      name: a\n  - apiVersion: v1\n    kind: Secret\n    metadata:\n      name: b\n`;
    const objects = parseManifests(text, 'list.yaml');
    expect(objects.map((o) => [o.object.kind, o.source.line])).toEqual([
      ['ConfigMap', 8],
      ['Secret', 12],
    ]);
    expect(objects[1]?.locate(['metadata', 'name']).line).toBe(15);
  });

  it('reads JSON manifests too', () => {
    const objects = parseManifests(
      '{\n  "apiVersion": "v1",\n  "kind": "ConfigMap",\n  "metadata": {"name": "j"}\n}\n',
      'cm.json',
    );
    expect(objects[0]?.locate(['metadata', 'name']).line).toBe(4);
  });

  it('fails at the line of a syntax error', () => {
    let caught: unknown;
    try {
      parseManifests('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [a\n', 'bad.yaml');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(GreenlightError);
    expect((caught as GreenlightError).file).toBe('bad.yaml');
    expect((caught as GreenlightError).line).toBeGreaterThanOrEqual(4);
  });
});

describe('folders', () => {
  it('walks manifests, reports chart folders once and skips dot folders', () => {
    const root = mkdtempSync(join(tmpdir(), 'gl-scan-'));
    mkdirSync(join(root, 'deploy', 'chart', 'templates'), { recursive: true });
    mkdirSync(join(root, 'deploy', '.git'), { recursive: true });
    writeFileSync(join(root, 'deploy', 'chart', 'Chart.yaml'), 'apiVersion: v2\nname: c\nversion: 1.0.0\n');
    writeFileSync(join(root, 'deploy', 'chart', 'templates', 'x.yaml'), 'kind: {{ .Values.kind }}\n');
    writeFileSync(join(root, 'deploy', 'a.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n');
    writeFileSync(join(root, 'deploy', '.git', 'b.yaml'), 'apiVersion: v1\nkind: ConfigMap\n');
    writeFileSync(join(root, 'deploy', 'notes.txt'), 'hello');
    const found = scanFolder(join(root, 'deploy'));
    expect(found.charts).toEqual([join(root, 'deploy', 'chart')]);
    expect(found.manifests).toEqual([join(root, 'deploy', 'a.yaml')]);
    const objects = loadManifests(['deploy'], root);
    expect(objects.map((o) => o.source)).toEqual([{ file: 'deploy/a.yaml', line: 1 }]);
    expect(() => loadManifests(['missing'], root)).toThrow(/no such file or folder/);
  });

  it('shows paths inside the root relative to it and others absolute', () => {
    expect(displayPath('/repo/deploy/a.yaml', '/repo')).toBe('deploy/a.yaml');
    expect(displayPath('/elsewhere/a.yaml', '/repo')).toBe('/elsewhere/a.yaml');
  });
});

const TEMPLATE = `{{- if .Values.enabled }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
  labels:
    {{- include "x.labels" . | nindent 4 }}
spec:
  replicas: {{ .Values.replicas }}
  template:
    spec:
      {{- with .Values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: init-helper
          image: busybox
        {{- range .Values.extra }}
        - name: {{ .name }}
        {{- end }}
        - image: "{{ .Values.image }}"
          name: web
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
          securityContext:
            privileged: true
{{- end }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}
spec:
  type: {{ .Values.serviceType }}
`;

describe('TemplateLines', () => {
  const lines = new TemplateLines(TEMPLATE);
  const value = {
    spec: {
      template: {
        spec: { containers: [{ name: 'init-helper' }, { name: 'web', resources: { limits: {} } }] },
      },
    },
  };

  it('finds the object by kind and occurrence', () => {
    expect(lines.objectLine('Deployment', 0)).toBe(3);
    expect(lines.objectLine('Service', 0)).toBe(31);
  });

  it.each([
    [['spec', 'replicas'], 9],
    [['spec', 'template', 'spec', 'containers', 1], 22],
    [['spec', 'template', 'spec', 'containers', 1, 'image'], 22],
    [['spec', 'template', 'spec', 'containers', 1, 'resources', 'limits', 'memory'], 24],
    [['spec', 'template', 'spec', 'containers', 1, 'securityContext', 'privileged'], 27],
    [['spec', 'template', 'spec', 'containers', 0, 'securityContext'], 17],
    [['spec', 'template', 'spec', 'nodeSelector', 'disk'], 13],
    [['metadata', 'labels', 'app'], 6],
    [['spec', 'strategy'], 8],
  ])('locates %j at line %i', (path, line) => {
    expect(lines.locate('Deployment', 0, path, value)).toBe(line);
  });

  it('locates fields of the second document in its own document', () => {
    expect(lines.locate('Service', 0, ['spec', 'type'], {})).toBe(35);
    expect(lines.locate('Service', 0, ['metadata', 'name'], {})).toBe(33);
  });

  it('falls back to the first object of a kind when a range produced more objects than kind lines', () => {
    expect(lines.objectLine('Deployment', 4)).toBe(3);
  });
});

describe('parseRendered', () => {
  it('maps helm sources to template files and lines, and keeps sources it cannot find on disk', () => {
    const root = mkdtempSync(join(tmpdir(), 'gl-render-'));
    const chart = join(root, 'charts', 'shop');
    mkdirSync(join(chart, 'templates'), { recursive: true });
    writeFileSync(join(chart, 'Chart.yaml'), 'apiVersion: v2\nname: shop\nversion: 1.0.0\n');
    writeFileSync(join(chart, 'templates', 'deployment.yaml'), TEMPLATE);
    const output = [
      '---',
      '# Source: shop/templates/deployment.yaml',
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata:',
      '  name: rel',
      'spec:',
      '  replicas: 1',
      '---',
      '# Source: shop/templates/deployment.yaml',
      'apiVersion: v1',
      'kind: Service',
      'metadata:',
      '  name: rel',
      'spec:',
      '  type: LoadBalancer',
      '---',
      '# Source: shop/charts/redis/templates/sts.yaml',
      'apiVersion: apps/v1',
      'kind: StatefulSet',
      'metadata:',
      '  name: rel-redis',
      '',
    ].join('\n');
    const objects = parseRendered(output, { chartDir: chart, root });
    expect(objects.map((o) => o.source)).toEqual([
      { file: 'charts/shop/templates/deployment.yaml', line: 3 },
      { file: 'charts/shop/templates/deployment.yaml', line: 31 },
      { file: 'shop/charts/redis/templates/sts.yaml' },
    ]);
    expect(objects[0]?.locate(['spec', 'replicas'])).toEqual({
      file: 'charts/shop/templates/deployment.yaml',
      line: 9,
    });
    expect(objects[1]?.locate(['spec', 'type']).line).toBe(35);
    expect(objects[2]?.locate(['spec']).line).toBeUndefined();
  });
});

describe('values behind a field', () => {
  const root = mkdtempSync(join(tmpdir(), 'gl-values-map-'));
  const chart = join(root, 'chart');
  mkdirSync(join(chart, 'templates'), { recursive: true });
  writeFileSync(join(chart, 'Chart.yaml'), 'apiVersion: v2\nname: app\nversion: 1.0.0\n');
  writeFileSync(
    join(chart, 'templates', 'deploy.yaml'),
    [
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata:',
      '  name: app',
      'spec:',
      '  replicas: {{ .Values.replicas }}',
      '  template:',
      '    spec:',
      '      containers:',
      '        - name: web',
      '          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"',
      '          resources:',
      '            {{- toYaml .Values.resources | nindent 12 }}',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(chart, 'values.yaml'),
    'replicas: 1\nimage:\n  repository: app\n  tag: "1.0"\nresources:\n  limits:\n    memory: 1Gi\n',
  );
  writeFileSync(join(root, 'prod.yaml'), '# production\nimage:\n  tag: latest\n');
  const output = [
    '---',
    '# Source: app/templates/deploy.yaml',
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata: { name: app }',
    'spec:',
    '  replicas: 3',
    '  template:',
    '    spec:',
    '      containers:',
    '        - name: web',
    '          image: "app:latest"',
    '          resources: { limits: { memory: 1Gi } }',
    '',
  ].join('\n');
  const container = ['spec', 'template', 'spec', 'containers', 0];
  const render = (set: string[] = []) => {
    const values = valuesSources([join(chart, 'values.yaml'), join(root, 'prod.yaml')], root, set);
    return parseRendered(output, { chartDir: chart, root, values })[0];
  };

  it('points a field at the highest-precedence values file that sets it', () => {
    const object = render();
    expect(object?.valueSource?.([...container, 'image'])).toEqual({ file: 'prod.yaml', line: 3 });
    expect(object?.valueSource?.(['spec', 'replicas'])).toEqual({ file: 'chart/values.yaml', line: 1 });
  });

  it('follows toYaml blocks down to the key inside the value', () => {
    expect(render()?.valueSource?.([...container, 'resources', 'limits', 'memory'])).toEqual({
      file: 'chart/values.yaml',
      line: 7,
    });
  });

  it('says nothing for a value given with --set, or a field no value feeds', () => {
    const object = render(['replicas=3']);
    expect(object?.valueSource?.(['spec', 'replicas'])).toBeUndefined();
    expect(object?.valueSource?.(['metadata', 'name'])).toBeUndefined();
  });
});

describe('helm arguments and errors', () => {
  it('builds the same argument array for Helm 3 and 4', () => {
    expect(
      templateArgs({
        chart: 'oci://registry.example.com/charts/shop',
        releaseName: 'shop',
        namespace: 'prod',
        valuesFiles: ['values/prod.yaml'],
        set: ['image.tag=1.2.3', 'replicas=3'],
        version: '1.4.0',
        kubeVersion: '1.33',
        root: '/repo',
      }),
    ).toEqual([
      'template',
      'shop',
      'oci://registry.example.com/charts/shop',
      '--namespace',
      'prod',
      '--values',
      '/repo/values/prod.yaml',
      '--set',
      'image.tag=1.2.3',
      '--set',
      'replicas=3',
      '--version',
      '1.4.0',
      '--kube-version',
      '1.33',
    ]);
  });

  it('keeps the template file and line helm names in its error', () => {
    const error = helmFailure(
      ['template'],
      'Error: parse error at (shop/templates/deployment.yaml:12): function "nope" not defined\n',
    );
    expect(error.file).toBe('shop/templates/deployment.yaml');
    expect(error.line).toBe(12);
    expect(error.message).toContain('function "nope" not defined');
  });
});
