// Reliability: runner cancellation in each phase, then a re-run that completes; two pipelines at once on one app.
//
// Cancellation is what the runner does to a cancelled job: SIGTERM to the bundle's process. The test holds the
// phase's request at a private fault proxy (a hang), waits until the bundle is inside that request, and sends
// SIGTERM; for the verification window it waits until the active Service selects the candidate. Afterwards
// nothing may be half-switched, the Lease must be free for the next run, and a re-run must complete.
import { afterAll, describe, expect, it } from 'vitest';
import type { FaultRule } from '../testenv/src/faults.ts';
import { createTestNamespace, type TestNamespace } from '../testenv/src/index.ts';
import type { StepResult } from './runner.ts';
import {
  adminKube,
  appImage,
  deployInputs,
  promoteInputs,
  type ServingState,
  servingState,
  step,
  workspaceWith,
} from './support/app.ts';
import { type PrivateProxy, startPrivateProxy } from './support/proxy.ts';
import { scanForSecrets, testSecrets } from './support/secrets.ts';

type CancelPhase =
  | 'deploy: apply'
  | 'deploy: wait'
  | 'promote: switch'
  | 'promote: verify'
  | 'promote: record';

interface CancelOutcome {
  status: number;
  log: string;
  after: ServingState;
  leases: string[];
  /** Milliseconds from SIGTERM to the process's exit. */
  exitMs: number;
  rerun: number[];
  final: ServingState;
}

const errorLines = (result: StepResult) =>
  result.log
    .split('\n')
    .filter((line) => /^::(error|warning)/.test(line))
    .map((line) => line.replace(/^::\w+[^:]*::/, ''))
    .join('\n');

describe('runner cancellation and concurrent pipelines', () => {
  let proxy: PrivateProxy;
  const namespaces: TestNamespace[] = [];
  const kube = adminKube();
  const cancelled = new Map<CancelPhase, CancelOutcome>();

  afterAll(async () => {
    await proxy?.close();
    await Promise.all(namespaces.map((ns) => ns.delete()));
    console.log(
      `cancellation outcomes:\n${[...cancelled]
        .map(
          ([phase, o]) =>
            `${phase.padEnd(16)} exit ${o.status}, after ${o.after.color} (${o.after.census}); problems: ${o.after.problems.join('; ') || 'none'}; leases left: ${o.leases.length}; exit ${o.exitMs} ms after SIGTERM; re-run ${o.rerun.join(',')} -> ${o.final.color} | ${o.log.split('\n').join(' / ').slice(0, 400)}`,
        )
        .join('\n')}`,
    );
  });

  /** Resolves once the rule has held a request (the bundle is inside the phase), polling the proxy. */
  async function whenApplied(id: string, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const rule = (await proxy.list()).find((r) => r.id === id);
      if (!rule || rule.applied > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async function whenSelects(
    namespace: string,
    app: string,
    color: string,
    signal: AbortSignal,
  ): Promise<void> {
    while (!signal.aborted) {
      const service = await kube.core.readNamespacedService({ name: app, namespace });
      if (service.spec?.selector?.['greenlight.dev/color'] === color) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  const phases: { phase: CancelPhase; hold?: (ns: string, app: string) => FaultRule }[] = [
    {
      phase: 'deploy: apply',
      hold: (ns, app) => ({
        kind: 'hang',
        hangMs: 15_000,
        count: 1,
        method: 'PATCH',
        path: `/namespaces/${ns}/deployments/${app}-green\\?fieldManager=greenlight&`,
      }),
    },
    {
      phase: 'deploy: wait',
      hold: (ns) => ({
        kind: 'hang',
        hangMs: 15_000,
        count: 1,
        method: 'GET',
        path: `/namespaces/${ns}/pods\\?.*watch=true`,
      }),
    },
    {
      phase: 'promote: switch',
      hold: (ns, app) => ({
        kind: 'hang',
        hangMs: 15_000,
        count: 1,
        method: 'PATCH',
        path: `/namespaces/${ns}/services/${app}$`,
      }),
    },
    { phase: 'promote: verify' },
    {
      phase: 'promote: record',
      hold: (ns, app) => ({
        kind: 'hang',
        hangMs: 15_000,
        count: 1,
        method: 'PUT',
        path: `/namespaces/${ns}/configmaps/greenlight-release-${app}-prod`,
        // The first PUT notes the switch before traffic moves; the one held is the record after the flip.
        skip: 1,
      }),
    },
  ];

  it('cancels each phase with SIGTERM; a re-run completes', async () => {
    proxy = await startPrivateProxy();
    await Promise.all(
      phases.map(async ({ phase, hold }, index) => {
        const app = `c${index}`;
        const ns = await createTestNamespace(`rel-cancel-${index}`);
        namespaces.push(ns);
        const through = { kubeconfigPath: proxy.kubeconfigPath, workspace: workspaceWith(app) };
        const first = await step('deploy-bluegreen', deployInputs(app, ns.name, 'a'), through);
        if (first.status !== 0) throw new Error(`baseline deploy of ${app}: ${first.log.slice(-1500)}`);
        const onDeploy = phase.startsWith('deploy');
        if (!onDeploy) {
          const second = await step('deploy-bluegreen', deployInputs(app, ns.name, 'b'), through);
          if (second.status !== 0) throw new Error(`deploy of ${app} v2: ${second.log.slice(-1500)}`);
        }
        const controller = new AbortController();
        const done = new AbortController();
        const rule = hold ? await proxy.add(hold(ns.name, app)) : undefined;
        let sentAt = 0;
        const trigger = (
          rule ? whenApplied(rule.id, done.signal) : whenSelects(ns.name, app, 'green', done.signal)
        ).then(() => {
          sentAt = Date.now();
          controller.abort();
        });
        const inputs = onDeploy
          ? deployInputs(app, ns.name, 'b')
          : { ...promoteInputs(app, ns.name), 'verify-for': '20s' };
        const result = await step(onDeploy ? 'deploy-bluegreen' : 'promote', inputs, {
          ...through,
          signal: controller.signal,
        });
        const exitMs = Date.now() - sentAt;
        done.abort();
        await trigger;
        if (rule) await proxy.remove(rule.id);
        const after = await servingState(kube, ns.name, app);
        const leases = (await kube.coordination.listNamespacedLease({ namespace: ns.name })).items.map(
          (l) => `${l.metadata?.name} held by ${l.spec?.holderIdentity}`,
        );
        const rerun: number[] = [];
        if (onDeploy)
          rerun.push((await step('deploy-bluegreen', deployInputs(app, ns.name, 'b'), through)).status);
        rerun.push((await step('promote', promoteInputs(app, ns.name), through)).status);
        const final = await servingState(kube, ns.name, app);
        cancelled.set(phase, {
          status: result.status,
          log: errorLines(result),
          after,
          leases,
          exitMs,
          rerun,
          final,
        });
      }),
    );
    expect(cancelled.size).toBe(phases.length);
  }, 300_000);

  describe.each(phases.map((p) => [p.phase] as const))('%s', (phase) => {
    const outcome = () => {
      const o = cancelled.get(phase);
      if (!o) throw new Error(`${phase} did not run`);
      return o;
    };
    it('the step fails and says it was cancelled', () => {
      expect(outcome().status).not.toBe(0);
      expect(outcome().log).toMatch(/cancel/i);
    });
    it('leaves nothing half-switched', () => expect(outcome().after.problems).toEqual([]));
    it('leaves no switch note behind: the run settles its own', () => {
      expect(outcome().after.note).toBeUndefined();
    });
    it('leaves the Lease free for the next run', () => {
      expect(outcome().leases).toEqual([]);
    });
    // Within 10 s: not kept alive by the held request (the proxy holds it 15 s) nor by a watch that was still
    // unanswered (client-node's 30 s timeout), the two causes of the late exits seen before.
    it('the process exits within 10 s of SIGTERM', () => {
      expect(outcome().exitMs).toBeLessThan(10_000);
    });
    it('a re-run completes with the candidate live', () => {
      expect(outcome().rerun.every((status) => status === 0)).toBe(true);
      expect(outcome().final.problems).toEqual([]);
      expect(outcome().final.color).toBe('green');
    });
  });

  it('two pipelines at once on one app: serialised, one version live, every failure explained', async () => {
    proxy ??= await startPrivateProxy();
    const app = 'twin';
    const ns = await createTestNamespace('rel-twin');
    namespaces.push(ns);
    const workspace = workspaceWith(app);
    const through = { kubeconfigPath: proxy.kubeconfigPath, workspace };
    const first = await step('deploy-bluegreen', deployInputs(app, ns.name, 'a'), through);
    expect(first.status, first.log.slice(-1500)).toBe(0);
    const pipeline = async (tag: string) => {
      const deploy = await step('deploy-bluegreen', deployInputs(app, ns.name, tag), {
        ...through,
        runId: `run-${tag}`,
      });
      const promote = await step(
        'promote',
        { ...promoteInputs(app, ns.name), 'expected-digest': appImage(app, tag) },
        { ...through, runId: `run-${tag}` },
      );
      return { tag, deploy, promote };
    };
    const runs = await Promise.all([pipeline('b'), pipeline('c')]);
    const state = await servingState(kube, ns.name, app);
    expect(state.problems).toEqual([]);
    const succeeded = runs.filter((r) => r.deploy.status === 0 && r.promote.status === 0);
    expect(
      succeeded.length,
      runs.map((r) => `${r.tag}: ${errorLines(r.deploy)} ${errorLines(r.promote)}`).join('\n'),
    ).toBeGreaterThanOrEqual(1);
    for (const run of runs) {
      for (const result of [run.deploy, run.promote]) {
        if (result.status !== 0) expect(errorLines(result)).toMatch(/failed on \w+ rel-twin-/);
      }
    }
    const live = state.record.revisions.find((r) => r.status === 'active');
    expect(runs.map((r) => appImage(app, r.tag))).toContain(live?.images[0]?.reference);
    expect(succeeded.map((r) => appImage(app, r.tag))).toContain(live?.images[0]?.reference);
    console.log(
      `two pipelines: ${runs.map((r) => `${r.tag}: deploy ${r.deploy.status}, promote ${r.promote.status}${r.promote.status ? ` (${errorLines(r.promote).slice(0, 200)})` : ''}`).join('; ')}; live ${live?.color} ${live?.images[0]?.reference.slice(-8)}`,
    );
  }, 180_000);

  it('prints none of the test secrets in any log, summary or output of this file', () => {
    const secrets = testSecrets([proxy?.kubeconfig ?? '']);
    expect(secrets.some((secret) => secret.what.startsWith('client-key-data'))).toBe(true);
    expect(scanForSecrets(secrets)).toEqual([]);
  });
});
