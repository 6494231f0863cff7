// The switch note against testenv: a promote or rollback whose record write after the flip fails leaves a note
// that says what happened; the next run settles it from where traffic goes, and audit reports it meanwhile.
// The faults are injected at a private fault proxy (testenv's proxy code, started by this file, so its rules
// reach no other test) in front of the real API server.

import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PrivateProxy, startPrivateProxy } from '../../../e2e/support/proxy.ts';
import type { TestNamespace } from '../../../testenv/src/index.ts';
import { collectLive } from '../../src/audit/live/collect.ts';
import { runAudit } from '../../src/audit/run.ts';
import { abortRelease } from '../../src/bluegreen/abort.ts';
import { type PromoteOptions, promoteRelease } from '../../src/bluegreen/promote.ts';
import { rollbackRelease } from '../../src/bluegreen/rollback.ts';
import { defaultGates } from '../../src/health/spec.ts';
import type { Kube } from '../../src/kube/client.ts';
import { kubeFromConfig } from '../../src/kube/client.ts';
import { activeRevision, candidateRevision, withSwitch } from '../../src/release/record.ts';
import { updateRecord } from '../../src/release/store.ts';
import type { CliHost } from '../../src/runtime/host.ts';
import {
  APP,
  activeSelectorColor,
  currentRecord,
  ENVIRONMENT,
  recordingHost,
  runContext,
  setupBlueGreen,
  testCluster,
} from './promote-fixture.ts';

const namespaces: TestNamespace[] = [];
let proxy: PrivateProxy;
beforeAll(async () => {
  proxy = await startPrivateProxy();
});
afterAll(async () => {
  await proxy?.close();
  for (const ns of namespaces) await ns.delete();
});

async function cluster(prefix: string) {
  const { kube, namespace } = await testCluster(prefix);
  namespaces.push(namespace);
  return { kube, namespace: namespace.name };
}

/** A Kube that talks through the private fault proxy. */
function viaProxy(): Kube {
  const config = new KubeConfig();
  config.loadFromString(proxy.kubeconfig);
  return kubeFromConfig(config);
}

const RUN = { GITHUB_RUN_ID: '41', GITHUB_REPOSITORY: 'shop/api', GITHUB_RUN_ATTEMPT: '1' };

function options(kube: Kube, namespace: string, host: CliHost, env: NodeJS.ProcessEnv = RUN): PromoteOptions {
  return {
    kube,
    app: APP,
    namespace,
    environment: ENVIRONMENT,
    ...runContext(host, env),
    verifyForMs: 0,
    scaleDownDelayMs: 0,
    keepPrevious: true,
    route: 'service',
    timeoutMs: 60_000,
    gates: defaultGates(),
  };
}

/** Fails every write of the record after the first (the note) until removed. */
async function failRecordAfterNote(namespace: string): Promise<string> {
  const rule = await proxy.add({
    kind: 'status',
    status: 503,
    method: 'PUT',
    path: `/namespaces/${namespace}/configmaps/greenlight-release-${APP}-${ENVIRONMENT}`,
    skip: 1,
  });
  return rule.id;
}

describe('the switch note', () => {
  it('a promote whose record fails after the flip leaves a note; audit reports it; the next run records it', async () => {
    const { kube, namespace } = await cluster('note-promote');
    await setupBlueGreen(kube, namespace, { live: 'blue' });
    const rule = await failRecordAfterNote(namespace);
    const first = recordingHost();
    await expect(promoteRelease(options(viaProxy(), namespace, first.host))).rejects.toThrow(
      /write the release record failed on ConfigMap/,
    );
    await proxy.remove(rule);
    expect(first.log()).toMatch(
      /serves on green and passed its verification, but the release record could not say so/,
    );
    expect(await activeSelectorColor(kube, namespace)).toBe('green');
    const left = await currentRecord(kube, namespace);
    expect(left.switching).toMatchObject({ action: 'promote', revision: 2, color: 'green', from: 1 });
    expect(activeRevision(left)?.color).toBe('blue');

    const snapshot = await collectLive(kube, [namespace]);
    const audit = await runAudit({ paths: [], root: process.cwd(), live: snapshot });
    const findings = audit.findings.filter((f) => f.ruleId === 'GL-LIVE-005');
    expect(findings.map((f) => f.message).join('\n')).toMatch(/notes a promote to revision 2 on green/);

    const next = recordingHost();
    const outcome = await promoteRelease(options(kube, namespace, next.host));
    expect(outcome.message).toMatch(/nothing to promote: revision 2 on green is already active/);
    expect(next.log()).toMatch(/traffic is on green, so it is now recorded as active/);
    const settled = await currentRecord(kube, namespace);
    expect(settled.switching).toBeUndefined();
    expect(settled.revisions.map((r) => `${r.revision}:${r.color}:${r.status}`)).toEqual([
      '1:blue:previous',
      '2:green:active',
    ]);
  });

  it('a rollback re-run after its record failed stops at the rollback instead of flipping forward again', async () => {
    const { kube, namespace } = await cluster('note-rollback');
    await setupBlueGreen(kube, namespace, { live: 'blue' });
    const { host } = recordingHost();
    await promoteRelease(options(kube, namespace, host));
    expect(await activeSelectorColor(kube, namespace)).toBe('green');

    const rule = await failRecordAfterNote(namespace);
    const failed = recordingHost();
    await expect(rollbackRelease(options(viaProxy(), namespace, failed.host))).rejects.toThrow(
      /write the release record failed/,
    );
    await proxy.remove(rule);
    expect(await activeSelectorColor(kube, namespace)).toBe('blue');
    expect((await currentRecord(kube, namespace)).switching).toMatchObject({
      action: 'rollback',
      color: 'blue',
    });

    const again = recordingHost();
    const outcome = await rollbackRelease(
      options(kube, namespace, again.host, { ...RUN, GITHUB_RUN_ATTEMPT: '2' }),
    );
    expect(outcome.message).toMatch(/this workflow run already rolled back to revision 1 on blue/);
    expect(await activeSelectorColor(kube, namespace)).toBe('blue');
    const record = await currentRecord(kube, namespace);
    expect(record.switching).toBeUndefined();
    expect(activeRevision(record)).toMatchObject({ revision: 1, color: 'blue' });
    expect(record.revisions.find((r) => r.revision === 2)?.reason).toMatch(
      /rolled back to revision 1 by github:shop\/api\/runs\/41\/attempts\/1/,
    );
  });

  it('a re-run of a rollback that went through stops there; another run rolling back flips forward', async () => {
    const { kube, namespace } = await cluster('rollback-rerun');
    await setupBlueGreen(kube, namespace, { live: 'blue' });
    const { host } = recordingHost();
    await promoteRelease(options(kube, namespace, host));
    await rollbackRelease(options(kube, namespace, recordingHost().host));
    expect(await activeSelectorColor(kube, namespace)).toBe('blue');

    const rerun = recordingHost();
    const outcome = await rollbackRelease(
      options(kube, namespace, rerun.host, { ...RUN, GITHUB_RUN_ATTEMPT: '2' }),
    );
    expect(outcome.message).toMatch(/this workflow run already rolled back to revision 1 on blue/);
    expect(await activeSelectorColor(kube, namespace)).toBe('blue');

    const other = await rollbackRelease(
      options(kube, namespace, recordingHost().host, { ...RUN, GITHUB_RUN_ID: '42' }),
    );
    expect(other).toMatchObject({ activeColor: 'green', revision: 2 });
    expect(await activeSelectorColor(kube, namespace)).toBe('green');
  });

  it('a note for a switch that never happened is dropped by the next run, which leaves the revisions alone', async () => {
    const { kube, namespace } = await cluster('note-dropped');
    await setupBlueGreen(kube, namespace, { live: 'blue' });
    await updateRecord(kube, { namespace, app: APP, environment: ENVIRONMENT }, (record) =>
      withSwitch(record, {
        action: 'promote',
        revision: 2,
        color: 'green',
        from: 1,
        route: 'service',
        holder: 'cli:elsewhere/pid/1',
        startedAt: new Date().toISOString(),
      }),
    );
    const { host, log } = recordingHost();
    await abortRelease({ ...options(kube, namespace, host), route: 'service' });
    expect(log()).toMatch(/traffic is on blue, not green, so its note is dropped/);
    const record = await currentRecord(kube, namespace);
    expect(record.switching).toBeUndefined();
    expect(activeRevision(record)?.revision).toBe(1);
    expect(candidateRevision(record)).toBeUndefined();
    expect(record.revisions.find((r) => r.revision === 2)?.status).toBe('retired');
  });

  it('a note that cannot be written moves no traffic', async () => {
    const { kube, namespace } = await cluster('note-refused');
    await setupBlueGreen(kube, namespace, { live: 'blue' });
    const rule = await proxy.add({
      kind: 'status',
      status: 503,
      method: 'PUT',
      path: `/namespaces/${namespace}/configmaps/greenlight-release-${APP}-${ENVIRONMENT}`,
    });
    const { host } = recordingHost();
    await expect(promoteRelease(options(viaProxy(), namespace, host))).rejects.toThrow(
      /write the release record failed on ConfigMap/,
    );
    await proxy.remove(rule.id);
    expect(await activeSelectorColor(kube, namespace)).toBe('blue');
    const record = await currentRecord(kube, namespace);
    expect(record.switching).toBeUndefined();
    expect(candidateRevision(record)?.revision).toBe(2);
  });
});
