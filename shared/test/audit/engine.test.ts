import { describe, expect, it } from 'vitest';
import { parseBaseline } from '../../src/audit/baseline.ts';
import { defaultConfig, parseConfig } from '../../src/audit/config.ts';
import { formatField, isExpired, runRules } from '../../src/audit/engine.ts';
import { jsonReport } from '../../src/audit/reporters/json.ts';
import { ALL_RULES } from '../../src/audit/rules/index.ts';
import { parseManifests } from '../../src/chart/manifests.ts';
import { GreenlightError } from '../../src/runtime/errors.ts';
import { deployment, wrap } from './fixtures.ts';

const KNOWN = ALL_RULES.map((rule) => rule.id);
const NOW = new Date('2026-11-21T12:00:00Z');

/** A Deployment with two problems: no readiness while a Service selects it is not among them; writable root FS. */
const risky = () =>
  wrap([
    deployment({
      container: { securityContext: { allowPrivilegeEscalation: false, runAsNonRoot: true } },
      replicas: 1,
    }),
  ]);

function audit(configText: string, options: { baseline?: Set<string>; now?: Date } = {}) {
  const config = parseConfig(configText, 'audit.yaml', KNOWN);
  return runRules(risky(), {
    rules: ALL_RULES,
    config,
    kubernetesMinor: 36,
    now: options.now ?? NOW,
    baseline: options.baseline,
  });
}

const ids = (findings: { ruleId: string }[]) => findings.map((finding) => finding.ruleId).sort();

describe('engine', () => {
  it('reports the findings of the risky workload, worst first', () => {
    const result = audit('');
    expect(ids(result.findings)).toEqual(['GL-AVL-001', 'GL-NET-004', 'GL-SEC-004']);
    expect(result.findings.map((finding) => finding.severity)).toEqual(['warning', 'warning', 'notice']);
  });

  it('applies severity overrides and turns rules off', () => {
    const result = audit('rules:\n  GL-SEC-004: error\n  GL-NET-004: off\n');
    expect(result.findings.map((finding) => [finding.ruleId, finding.severity])).toEqual([
      ['GL-SEC-004', 'error'],
      ['GL-AVL-001', 'warning'],
    ]);
    expect(result.rules.some((rule) => rule.id === 'GL-NET-004')).toBe(false);
  });

  it('suppresses a finding with its reason and keeps it in the result', () => {
    const result = audit(
      'suppressions:\n  - rule: GL-SEC-004\n    object: Deployment/shop/api\n    reason: the app writes its cache to /tmp; tracked in SHOP-12\n    expires: 2026-12-31\n',
    );
    expect(ids(result.findings)).toEqual(['GL-AVL-001', 'GL-NET-004']);
    expect(result.suppressed).toHaveLength(1);
    expect(result.suppressed[0]?.reason).toContain('SHOP-12');
    expect(result.notes).toEqual([]);
  });

  it.each([
    ['Deployment/api', true],
    ['deployment/shop/api', true],
    ['Deployment/*/api', true],
    ['Deployment/sh*/a*', true],
    ['Deployment/other/api', false],
    ['StatefulSet/api', false],
    ['Deployment/web', false],
  ])('matches the object pattern %s: %s', (pattern, matches) => {
    const result = audit(
      `suppressions:\n  - rule: GL-SEC-004\n    object: ${pattern}\n    reason: accepted\n`,
    );
    expect(result.suppressed.length).toBe(matches ? 1 : 0);
  });

  it('reports the finding again after the expiry day, with a note at the suppression line', () => {
    const text =
      'rules: {}\nsuppressions:\n  - rule: GL-SEC-004\n    reason: until the migration\n    expires: 2026-11-20\n';
    const result = audit(text);
    expect(ids(result.findings)).toContain('GL-SEC-004');
    expect(result.suppressed).toEqual([]);
    expect(result.notes).toHaveLength(1);
    expect(result.notes[0]).toMatchObject({ level: 'warning', file: 'audit.yaml', line: 3 });
    expect(result.notes[0]?.message).toContain('expired on 2026-11-20');
  });

  it('still applies a suppression on its expiry day', () => {
    const suppression = { rule: 'GL-SEC-004', reason: 'x', expires: '2026-11-21' };
    expect(isExpired(suppression, NOW)).toBe(false);
    expect(isExpired(suppression, new Date('2026-11-22T00:00:00Z'))).toBe(true);
    expect(isExpired({ rule: 'GL-SEC-004', reason: 'x' }, NOW)).toBe(false);
  });

  it('notes a suppression that matched nothing', () => {
    const result = audit('suppressions:\n  - rule: GL-SEC-001\n    reason: we used to run privileged\n');
    expect(result.notes).toHaveLength(1);
    expect(result.notes[0]?.message).toContain('matched no finding');
  });

  it('leaves out findings in the baseline and counts them', () => {
    const first = audit('');
    const baseline = parseBaseline(JSON.stringify(jsonReport(first)), 'baseline.json');
    const second = audit('', { baseline });
    expect(second.findings).toEqual([]);
    expect(second.baselined).toBe(first.findings.length);
  });

  it('reports a new finding that is not in the baseline', () => {
    const baseline = parseBaseline(JSON.stringify(jsonReport(audit(''))), 'baseline.json');
    const worse = wrap([
      deployment({
        replicas: 1,
        container: { securityContext: { privileged: true, readOnlyRootFilesystem: false } },
      }),
    ]);
    const result = runRules(worse, {
      rules: ALL_RULES,
      config: defaultConfig(),
      kubernetesMinor: 36,
      baseline,
    });
    expect(ids(result.findings)).toEqual(['GL-SEC-001']);
  });

  it('keeps fingerprints stable when the object moves in its file', () => {
    const text = (padding: string) =>
      `${padding}apiVersion: v1\nkind: Service\nmetadata:\n  name: edge\nspec:\n  type: LoadBalancer\n`;
    const run = (source: string) =>
      runRules(parseManifests(source, 'svc.yaml'), {
        rules: ALL_RULES,
        config: defaultConfig(),
        kubernetesMinor: 36,
      }).findings;
    const [before] = run(text(''));
    const [after] = run(text('# a comment\n# another\n'));
    expect(before?.line).toBe(6);
    expect(after?.line).toBe(8);
    expect(after?.fingerprint).toBe(before?.fingerprint);
  });

  it('names list items in fields', () => {
    const object = deployment().spec;
    expect(formatField({ spec: object }, ['spec', 'template', 'spec', 'containers', 0, 'image'])).toBe(
      'spec.template.spec.containers[web].image',
    );
    expect(formatField({ list: [1] }, ['list', 0])).toBe('list[0]');
  });
});

describe('config', () => {
  it('reads every setting', () => {
    const config = parseConfig(
      [
        'rules:',
        '  GL-AVL-001: notice',
        'allowedRegistries: [registry.example.com, ghcr.io/acme]',
        'production: true',
        'settings:',
        '  restartThreshold: 3',
        '  restartWindow: 2h',
        '  notReadyAfter: 10m',
        '  slowStartSeconds: 900',
        '  candidateGrace: 6h',
      ].join('\n'),
      'audit.yaml',
      KNOWN,
    );
    expect(config.rules).toEqual({ 'GL-AVL-001': 'notice' });
    expect(config.allowedRegistries).toEqual(['registry.example.com', 'ghcr.io/acme']);
    expect(config.production).toBe(true);
    expect(config.settings).toEqual({
      restartThreshold: 3,
      restartWindowMs: 7_200_000,
      notReadyAfterMs: 600_000,
      slowStartSeconds: 900,
      candidateGraceMs: 21_600_000,
    });
  });

  it.each([
    ['suppressions:\n  - rule: GL-SEC-004\n', 'needs `reason`', 2],
    ['suppressions:\n  - rule: GL-SEC-004\n    reason: "  "\n', 'must give a reason', 3],
    ['suppressions:\n  - rule: GL-SEC-004\n    reason: ok\n    expires: next week\n', 'YYYY-MM-DD', 4],
    ['suppressions:\n  - rule: GL-SEC-004\n    reason: ok\n    expires: 2026-02-30\n', 'does not exist', 4],
    ['suppressions:\n  - rule: GL-XYZ-001\n    reason: ok\n', 'unknown rule GL-XYZ-001', 2],
    ['rules:\n  GL-RES-001: loud\n', 'must be one of', 2],
    ['rules:\n  resources: off\n', 'key `resources` that is not a rule ID', 2],
    ['severity: {}\n', 'unknown key `severity`', 1],
    ['settings:\n  restartWindow: soon\n', 'must be a duration', 2],
    ['rules: [\n', 'not valid YAML', undefined],
  ])('rejects %j', (text, words, line) => {
    let caught: unknown;
    try {
      parseConfig(text, 'audit.yaml', KNOWN);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(GreenlightError);
    const error = caught as GreenlightError;
    expect(error.message).toContain(words);
    expect(error.file).toBe('audit.yaml');
    if (line !== undefined) expect(error.line).toBe(line);
  });
});

describe('baseline', () => {
  it('reads fingerprints from a report or a plain list', () => {
    expect([...parseBaseline('{"findings":[{"fingerprint":"a"},{"fingerprint":"b"}]}', 'b.json')]).toEqual([
      'a',
      'b',
    ]);
    expect([...parseBaseline('{"fingerprints":["c"]}', 'b.json')]).toEqual(['c']);
  });
  it.each(['not json', '{"other": 1}'])('rejects %j', (text) => {
    expect(() => parseBaseline(text, 'b.json')).toThrow(/baseline b.json/);
  });
});
