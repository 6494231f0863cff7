// Audits 10,000 generated objects (written as one multi-document YAML file, so line mapping is part of the work)
// and prints objects per second for parsing, the rules, and the SARIF and JSON reporters. Not a test: the figure
// goes to docs/audit.md. Run: node bench/audit.ts [count]
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { stringify } from 'yaml';
import { defaultConfig } from '../shared/src/audit/config.ts';
import { runRules } from '../shared/src/audit/engine.ts';
import { jsonReport } from '../shared/src/audit/reporters/json.ts';
import { sarifReport } from '../shared/src/audit/reporters/sarif.ts';
import { ALL_RULES } from '../shared/src/audit/rules/index.ts';
import { parseManifests } from '../shared/src/chart/manifests.ts';

const COUNT = Number(process.argv[2] ?? 10_000);

/** One app's objects: a Deployment (some with problems), its Service, a PDB and a ConfigMap. */
function app(index: number): object[] {
  const name = `app-${index}`;
  const namespace = `team-${index % 50}`;
  const labels = { app: name };
  const risky = index % 3 === 0;
  return [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace },
      spec: {
        replicas: risky ? 1 : 3,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            securityContext: { runAsNonRoot: true, runAsUser: 10001 },
            containers: [
              {
                name: 'web',
                image: risky
                  ? `registry.example.com/team/${name}:latest`
                  : `registry.example.com/team/${name}:1.${index}.0`,
                env: risky ? [{ name: 'JAVA_OPTS', value: '-Xmx1g' }] : [],
                resources: risky
                  ? { limits: { memory: '1Gi' } }
                  : { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '256Mi' } },
                readinessProbe: { httpGet: { path: '/ready', port: 8080 }, periodSeconds: 5 },
                livenessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 10 },
                securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: !risky },
              },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace },
      spec: {
        type: risky ? 'LoadBalancer' : 'ClusterIP',
        selector: labels,
        ports: [{ port: 80, targetPort: 8080 }],
      },
    },
    {
      apiVersion: index % 7 === 0 ? 'policy/v1beta1' : 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name, namespace },
      spec: { maxUnavailable: 1, selector: { matchLabels: labels } },
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `${name}-config`, namespace },
      data: { GREETING: 'hi' },
    },
  ];
}

const objects: object[] = [];
for (let index = 0; objects.length < COUNT; index += 1) objects.push(...app(index));
objects.length = COUNT;
const text = objects.map((object) => stringify(object)).join('---\n');

const rate = (count: number, ms: number) => Math.round((count / ms) * 1000);
// CPU time as well as wall time: on a shared, loaded machine the wall time says more about the neighbours.
const cpu = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};
const c0 = cpu();
const t0 = performance.now();
const parsed = parseManifests(text, 'bench/generated.yaml');
const t1 = performance.now();
const c1 = cpu();
const result = runRules(parsed, { rules: ALL_RULES, config: defaultConfig(), kubernetesMinor: 36 });
const t2 = performance.now();
const c2 = cpu();
const sarif = JSON.stringify(sarifReport(result));
const json = JSON.stringify(jsonReport(result));
const t3 = performance.now();
const c3 = cpu();

const lines = [
  `objects:           ${parsed.length} (${(text.length / 1024 / 1024).toFixed(1)} MiB of YAML)`,
  `findings:          ${result.findings.length}`,
  'phase              wall                      CPU',
  `parse with lines:  ${(t1 - t0).toFixed(0)} ms, ${rate(parsed.length, t1 - t0)} objects/s    ${(c1 - c0).toFixed(0)} ms, ${rate(parsed.length, c1 - c0)} objects/s`,
  `rules (${ALL_RULES.length}):        ${(t2 - t1).toFixed(0)} ms, ${rate(parsed.length, t2 - t1)} objects/s    ${(c2 - c1).toFixed(0)} ms, ${rate(parsed.length, c2 - c1)} objects/s`,
  `SARIF + JSON:      ${(t3 - t2).toFixed(0)} ms                    ${(c3 - c2).toFixed(0)} ms (${(sarif.length / 1024 / 1024).toFixed(1)} MiB + ${(json.length / 1024 / 1024).toFixed(1)} MiB)`,
  `end to end:        ${(t3 - t0).toFixed(0)} ms, ${rate(parsed.length, t3 - t0)} objects/s    ${(c3 - c0).toFixed(0)} ms, ${rate(parsed.length, c3 - c0)} objects/s`,
  `node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), load average ${loadavg()[0]?.toFixed(1)} at the end`,
];
process.stdout.write(`${lines.join('\n')}\n`);
