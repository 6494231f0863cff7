import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { loadEnv } from '../src/index.ts';
import { exec } from './helpers.ts';

describe('helm 3 and helm 4', () => {
  const env = loadEnv();
  let chart: string;
  beforeAll(() => {
    chart = fs.mkdtempSync(path.join(os.tmpdir(), 'testenv-chart-'));
    fs.mkdirSync(path.join(chart, 'templates'));
    fs.writeFileSync(
      path.join(chart, 'Chart.yaml'),
      'apiVersion: v2\nname: hello\nversion: 1.2.3\nappVersion: "4.5.6"\n',
    );
    fs.writeFileSync(path.join(chart, 'values.yaml'), 'replicas: 1\nimage: registry.invalid/hello\n');
    fs.writeFileSync(
      path.join(chart, 'templates', 'deployment.yaml'),
      [
        'apiVersion: apps/v1',
        'kind: Deployment',
        'metadata:',
        '  name: {{ .Release.Name }}',
        '  labels: {app: {{ .Release.Name }}, chart: "{{ .Chart.Name }}-{{ .Chart.Version }}"}',
        'spec:',
        '  replicas: {{ .Values.replicas }}',
        '  selector: {matchLabels: {app: {{ .Release.Name }}}}',
        '  template:',
        '    metadata: {labels: {app: {{ .Release.Name }}}}',
        '    spec:',
        '      containers:',
        '      - name: app',
        '        image: "{{ .Values.image }}:{{ .Chart.AppVersion }}"',
        '',
      ].join('\n'),
    );
  });
  afterAll(() => {
    fs.rmSync(chart, { recursive: true, force: true });
  });

  for (const [label, variable, major] of [
    ['helm 3', 'TESTENV_HELM3', 'v3.'],
    ['helm 4', 'TESTENV_HELM4', 'v4.'],
  ] as const) {
    it(`${label} renders the chart`, async () => {
      const helm = env[variable] as string;
      const version = await exec(helm, ['version', '--short']);
      expect(version.stdout.trim().startsWith(major)).toBe(true);
      const { stdout } = await exec(helm, ['template', 'demo', chart, '--set', 'replicas=3']);
      const docs = YAML.parseAllDocuments(stdout).map((d) => d.toJS());
      const deployment = docs.find((d) => d?.kind === 'Deployment');
      expect(deployment.metadata.name).toBe('demo');
      expect(deployment.spec.replicas).toBe(3);
      expect(deployment.spec.template.spec.containers[0].image).toBe('registry.invalid/hello:4.5.6');
    });
  }
});
