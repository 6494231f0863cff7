// Reliability: faults from the API server during each phase of deploy and promote, through the committed bundles.
//
// Each case has its own namespace and app, with blue live (a first deploy), and injects one fault at a private
// fault proxy that the bundle talks through, matched to one phase's requests:
//   apply  - the server-side apply PATCH of the candidate's Deployment
//   wait   - the watches of the rollout (Deployment, ReplicaSets, pods)
//   note   - the PUT of the release record that notes the switch, before traffic moves
//   switch - the merge PATCH of the active Service's selector
//   record - the PUT of the release record after the verified flip (the note's PUT is let through: `skip`)
//   rollback-switch, rollback-record - the same two requests of a rollback (green live, back to blue)
// Faults: 429 and 503 answers, latency, connection resets and hangs (held, then dropped). A short fault on a safe
// request must be retried and the step must succeed; a fault that does not stop must fail the step with an error
// naming the object. Either way, afterwards nothing is half-switched (checked on the API server directly), and a
// re-run without the fault completes: the candidate ends up live.
import { afterAll, describe, expect, it } from 'vitest';
import type { FaultRule } from '../testenv/src/faults.ts';
import { createTestNamespace, podBehaviour, type TestNamespace } from '../testenv/src/index.ts';
import type { StepResult } from './runner.ts';
import {
  adminKube,
  deployInputs,
  promoteInputs,
  type ServingState,
  servingState,
  step,
  workspaceWith,
} from './support/app.ts';
import { type PrivateProxy, startPrivateProxy } from './support/proxy.ts';
import { scanForSecrets, testSecrets } from './support/secrets.ts';

type Phase = 'apply' | 'wait' | 'note' | 'switch' | 'record' | 'rollback-switch' | 'rollback-record';
type Expect = 'success' | 'failure';

interface FaultCase {
  phase: Phase;
  /** What the fault is, for the report. */
  fault: string;
  rule: Omit<FaultRule, 'path' | 'method'>;
  expect: Expect;
  /** What the error must also say, for a failure. */
  says?: RegExp;
}

/** The requests of one phase of the app `app` in `ns`, as a proxy rule's method, path pattern and skip. */
function phaseMatch(phase: Phase, ns: string, app: string): Pick<FaultRule, 'method' | 'path' | 'skip'> {
  switch (phase) {
    case 'apply':
      return {
        method: 'PATCH',
        path: `/namespaces/${ns}/deployments/${app}-green\\?fieldManager=greenlight&`,
      };
    case 'wait':
      return { method: 'GET', path: `/namespaces/${ns}/(deployments|replicasets|pods)\\?.*watch=true` };
    case 'switch':
    case 'rollback-switch':
      return { method: 'PATCH', path: `/namespaces/${ns}/services/${app}$` };
    case 'note':
      return { method: 'PUT', path: `/namespaces/${ns}/configmaps/greenlight-release-${app}-prod` };
    case 'record':
    case 'rollback-record':
      return { method: 'PUT', path: `/namespaces/${ns}/configmaps/greenlight-release-${app}-prod`, skip: 1 };
  }
}

const transient: Omit<FaultCase, 'phase'>[] = [
  {
    fault: '429 twice',
    rule: { kind: 'status', status: 429, retryAfterSeconds: 0, count: 2 },
    expect: 'success',
  },
  { fault: '503 twice', rule: { kind: 'status', status: 503, count: 2 }, expect: 'success' },
  { fault: '1.5 s latency', rule: { kind: 'latency', latencyMs: 1500, count: 3 }, expect: 'success' },
  { fault: 'connection reset once', rule: { kind: 'reset', count: 1 }, expect: 'success' },
  { fault: 'hang 3 s then drop, once', rule: { kind: 'hang', hangMs: 3000, count: 1 }, expect: 'success' },
];
const persistent: Omit<FaultCase, 'phase'>[] = [
  { fault: '503 until removed', rule: { kind: 'status', status: 503 }, expect: 'failure' },
];
const phases: Phase[] = ['apply', 'wait', 'note', 'switch', 'record'];
// Latency is tried where a slow answer meets a wait of the product's own (the rollout watch, the switch), not on
// the single apply and record requests; the note, a write like the record's, gets one status, one reset and the
// persistent fault; all to keep the suite's time down.
const cases: FaultCase[] = phases.flatMap((phase) =>
  [...transient, ...persistent]
    .filter((c) => c.rule.kind !== 'latency' || phase === 'wait' || phase === 'switch')
    .filter(
      (c) =>
        phase !== 'note' || ['503 twice', 'connection reset once', '503 until removed'].includes(c.fault),
    )
    .map((c): FaultCase => ({ ...c, phase })),
);
// A rollback switches traffic too: a short fault and a persistent one on its selector patch and on its record.
for (const phase of ['rollback-switch', 'rollback-record'] as const) {
  for (const c of [...transient, ...persistent]) {
    if (c.fault === '503 twice' || c.fault === '503 until removed') cases.push({ ...c, phase });
  }
}
const isRollback = (phase: Phase) => phase.startsWith('rollback');
/** The colour that serves once the step (or its re-run) completed: a rollback goes back to blue. */
const finalColor = (phase: Phase) => (isRollback(phase) ? 'blue' : 'green');
// Conflicts (409, as the API server answers a write whose resourceVersion precondition no longer holds). The
// record is read again and the change re-applied; the Service is refused (someone else changed it since the plan:
// the switch is not forced over them) and nothing is switched.
cases.push(
  {
    phase: 'record',
    fault: '409 conflict once',
    rule: { kind: 'status', status: 409, count: 1 },
    expect: 'success',
  },
  {
    phase: 'switch',
    fault: '409 conflict once',
    rule: { kind: 'status', status: 409, count: 1 },
    expect: 'failure',
    says: /changed since the switch was planned/,
  },
);

interface Outcome {
  status: number;
  errors: string[];
  faultsApplied: number;
  after: ServingState;
  rerun: { deploy?: number; promote: number; after: ServingState };
}

const outcomes = new Map<string, Outcome>();
const key = (c: FaultCase) => `${c.phase}: ${c.fault}`;

/** Runs `jobs` with at most `limit` at a time. */
async function pool<T>(items: readonly T[], limit: number, job: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: limit }, async () => {
      for (let next = queue.shift(); next !== undefined; next = queue.shift()) await job(next);
    }),
  );
}

const errorsOf = (result: StepResult) =>
  result.log
    .split('\n')
    .filter((line) => line.startsWith('::error'))
    .map((line) => line.replace(/^::error[^:]*::/, ''));

describe('API faults in each phase of deploy and promote', () => {
  let proxy: PrivateProxy;
  const namespaces: TestNamespace[] = [];

  afterAll(async () => {
    await proxy?.close();
    await Promise.all(namespaces.map((ns) => ns.delete()));
    const rows = [...outcomes].map(
      ([name, o]) =>
        `${name.padEnd(36)} exit ${o.status}, faults applied ${o.faultsApplied}, after: ${o.after.color} (${o.after.census})${o.errors[0] ? ` | ${o.errors[0].slice(0, 160)}` : ''}`,
    );
    console.log(`fault outcomes:\n${rows.join('\n')}`);
  });

  it('runs every case', async () => {
    proxy = await startPrivateProxy();
    const kube = adminKube();
    await pool(cases, 6, async (c) => {
      const app = `f${cases.indexOf(c)}`;
      const ns = await createTestNamespace(`rel-faults-${c.phase}`);
      namespaces.push(ns);
      // In the wait phase the pods take 2 s to turn Ready, so the rollout wait needs its watches.
      const workspace = workspaceWith(
        app,
        c.phase === 'wait' ? { annotations: podBehaviour.readyAfter(2) } : {},
      );
      const through = { kubeconfigPath: proxy.kubeconfigPath, workspace };
      const first = await step('deploy-bluegreen', deployInputs(app, ns.name, 'a'), through);
      if (first.status !== 0) throw new Error(`baseline deploy of ${app} failed:\n${first.log.slice(-2000)}`);
      const onDeploy = c.phase === 'apply' || c.phase === 'wait';
      if (!onDeploy) {
        const second = await step('deploy-bluegreen', deployInputs(app, ns.name, 'b'), through);
        if (second.status !== 0) throw new Error(`deploy of ${app} v2 failed:\n${second.log.slice(-2000)}`);
      }
      if (isRollback(c.phase)) {
        const promoted = await step('promote', promoteInputs(app, ns.name), through);
        if (promoted.status !== 0)
          throw new Error(`promote of ${app} v2 failed:\n${promoted.log.slice(-2000)}`);
      }
      // The step the fault hits (unless it is a deploy), and the one re-run without the fault afterwards.
      const next = () =>
        isRollback(c.phase)
          ? // The re-run is the same workflow run's job run again (one run id), as GitHub's re-run does.
            step(
              'promote',
              { ...promoteInputs(app, ns.name), action: 'rollback' },
              { ...through, runId: `rb-${app}` },
            )
          : step('promote', promoteInputs(app, ns.name), through);
      const rule = await proxy.add({ ...c.rule, ...phaseMatch(c.phase, ns.name, app) });
      const faulted = onDeploy
        ? await step('deploy-bluegreen', deployInputs(app, ns.name, 'b'), through)
        : await next();
      const applied = (await proxy.list()).find((r) => r.id === rule.id)?.applied ?? c.rule.count ?? 0;
      await proxy.remove(rule.id);
      const after = await servingState(kube, ns.name, app);
      const rerun: Outcome['rerun'] = { promote: 0, after };
      if (onDeploy)
        rerun.deploy = (await step('deploy-bluegreen', deployInputs(app, ns.name, 'b'), through)).status;
      rerun.promote = (await next()).status;
      rerun.after = await servingState(kube, ns.name, app);
      outcomes.set(key(c), {
        status: faulted.status,
        errors: errorsOf(faulted),
        faultsApplied: applied,
        after,
        rerun,
      });
    });
    expect(outcomes.size).toBe(cases.length);
  }, 600_000);

  describe.each(cases.map((c) => [key(c), c] as const))('%s', (name, c) => {
    const outcome = () => {
      const o = outcomes.get(name);
      if (!o) throw new Error(`case ${name} did not run`);
      return o;
    };
    it('the fault really happened', () => {
      expect(outcome().faultsApplied).toBeGreaterThan(0);
    });
    const clearFailure = () => {
      expect(outcome().status).not.toBe(0);
      if (c.says) expect(outcome().errors.join('\n')).toMatch(c.says);
      expect(outcome().errors.join('\n')).toMatch(
        /failed on (Deployment|Service|ConfigMap|Lease) rel-faults-/,
      );
    };
    const retried = () => expect(outcome().status, outcome().errors.join('\n')).toBe(0);
    if (c.expect === 'success') {
      it('is retried and the step succeeds', retried);
    } else {
      it('fails the step with an error naming the object', clearFailure);
    }
    it('leaves nothing half-switched', () => expect(outcome().after.problems).toEqual([]));
    if (c.expect === 'failure' && c.phase === 'note') {
      it('moves no traffic when the note cannot be written', () => {
        expect(outcome().after.color).toBe('blue');
        expect(outcome().after.note).toBeUndefined();
      });
    }
    if (c.expect === 'failure' && c.phase === 'record') {
      it('leaves the note that the verified switch happened, for the next run to record', () => {
        expect(outcome().after.color).toBe('green');
        expect(outcome().after.note).toMatch(
          /^promote to revision \d+ on green \(completed by the next run\)$/,
        );
      });
    }
    if (c.expect === 'failure' && c.phase === 'rollback-switch') {
      it('leaves traffic on green and no note when the rollback cannot switch', () => {
        expect(outcome().after.color).toBe('green');
        expect(outcome().after.note).toBeUndefined();
      });
    }
    if (c.expect === 'failure' && c.phase === 'rollback-record') {
      it('leaves the note that the rollback happened; its re-run records it instead of flipping forward', () => {
        expect(outcome().after.color).toBe('blue');
        expect(outcome().after.note).toMatch(
          /^rollback to revision \d+ on blue \(completed by the next run\)$/,
        );
      });
    }
    if (c.expect === 'success') {
      it('leaves no switch note behind', () => expect(outcome().after.note).toBeUndefined());
    }
    if (c.expect === 'failure' && (c.phase === 'apply' || c.phase === 'wait')) {
      it('a failed deploy records its revision as failed, scales the candidate down and leaves blue live', () => {
        const { after } = outcome();
        expect(after.record.revisions.at(-1)).toMatchObject({ color: 'green', status: 'failed' });
        expect(after.record.revisions.find((r) => r.status === 'active')?.color).toBe('blue');
        expect(after.readyPods.green).toBe(0);
      });
    }
    it(`a re-run without the fault completes with ${finalColor(c.phase)} live`, () => {
      const { rerun } = outcome();
      if (rerun.deploy !== undefined) expect(rerun.deploy).toBe(0);
      expect(rerun.promote).toBe(0);
      expect(rerun.after.problems).toEqual([]);
      expect(rerun.after.color).toBe(finalColor(c.phase));
      expect(rerun.after.note).toBeUndefined();
    });
  });

  it('prints none of the test secrets in any log, summary or output of this file', () => {
    const secrets = testSecrets([proxy?.kubeconfig ?? '']);
    expect(secrets.some((secret) => secret.what.startsWith('client-key-data'))).toBe(true);
    expect(scanForSecrets(secrets)).toEqual([]);
  });
});
