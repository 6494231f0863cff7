// The promise of a blue-green flip, measured: an independent watcher (client-node informers on the active
// Service's EndpointSlices and the app's pods) evaluates every instant it sees during many promote and rollback
// cycles on testenv. Two counts must be zero: instants where the active Service has no ready endpoint, and
// instants that mix colours once the watcher has seen a flip complete (until the next flip starts).
import {
  type KubernetesObject,
  ListWatch,
  type V1EndpointSlice,
  type V1Pod,
  Watch,
} from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import type { TestNamespace } from '../../../testenv/src/index.ts';
import { promoteRelease } from '../../src/bluegreen/promote.ts';
import { rollbackRelease, scaleColor, waitForColorReady } from '../../src/bluegreen/rollback.ts';
import { endpointCensus, formatCensus, onlyColor, readyTotal } from '../../src/bluegreen/switch.ts';
import { defaultGates } from '../../src/health/spec.ts';
import type { Kube } from '../../src/kube/client.ts';
import type { Color } from '../../src/release/record.ts';
import {
  APP,
  ENVIRONMENT,
  markIdleAsCandidate,
  recordingHost,
  runContext,
  setupBlueGreen,
  testCluster,
} from './promote-fixture.ts';

const CYCLES = Number(process.env.GREENLIGHT_INVARIANT_CYCLES ?? 50);
const REPLICAS = 3;

const namespaces: TestNamespace[] = [];
afterAll(async () => {
  for (const ns of namespaces) await ns.delete();
});

/** What the watcher counts. */
interface Tally {
  instants: number;
  zeroReady: number;
  mixedAfterFlip: number;
  /** Instants observed between a flip's start and the watcher seeing it complete (mixing is allowed there). */
  duringFlip: number;
  /** Instants seen while the set-up's slices were still filling, before any flip (reported, not judged). */
  beforeFirstSettle: number;
  zeroBeforeFirstSettle: number;
  examples: string[];
}

/** Watches the active Service's EndpointSlices and the app's pods, and judges every instant. */
async function startWatcher(kube: Kube, namespace: string, initial: Color) {
  const watch = new Watch(kube.config);
  const sliceSelector = `kubernetes.io/service-name=${APP}`;
  const podSelector = `greenlight.dev/app=${APP}`;
  const slices = new ListWatch<V1EndpointSlice>(
    `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices`,
    watch,
    () => kube.discovery.listNamespacedEndpointSlice({ namespace, labelSelector: sliceSelector }),
    false,
    sliceSelector,
  );
  const pods = new ListWatch<V1Pod>(
    `/api/v1/namespaces/${namespace}/pods`,
    watch,
    () => kube.core.listNamespacedPod({ namespace, labelSelector: podSelector }),
    false,
    podSelector,
  );
  const tally: Tally = {
    instants: 0,
    zeroReady: 0,
    mixedAfterFlip: 0,
    duringFlip: 0,
    beforeFirstSettle: 0,
    zeroBeforeFirstSettle: 0,
    examples: [],
  };
  // `settled` is the colour the watcher has seen the Service settle on; undefined while a flip is under way.
  // The count starts once the watcher has seen the initial colour fully in place: the EndpointSlice controller may
  // still be filling the slices right after the set-up, which is not a flip.
  let settled: Color | undefined;
  let awaiting: Color | undefined = initial;
  let counting = false;
  let synced = false;
  const settledWaiters: (() => void)[] = [];
  const judge = () => {
    if (!synced) return;
    const census = endpointCensus(slices.list(), pods.list());
    if (!counting) {
      tally.beforeFirstSettle++;
      if (readyTotal(census) === 0) tally.zeroBeforeFirstSettle++;
      if (awaiting && onlyColor(census, awaiting)) {
        counting = true;
        settled = awaiting;
        awaiting = undefined;
        for (const resolve of settledWaiters.splice(0)) resolve();
      }
      return;
    }
    tally.instants++;
    if (readyTotal(census) === 0) {
      tally.zeroReady++;
      if (tally.examples.length < 10) tally.examples.push(`zero ready: ${formatCensus(census)}`);
    }
    if (settled) {
      if (!onlyColor(census, settled) && readyTotal(census) > 0) {
        tally.mixedAfterFlip++;
        if (tally.examples.length < 10)
          tally.examples.push(`mixed after ${settled} settled: ${formatCensus(census)}`);
      }
    } else {
      tally.duringFlip++;
      if (awaiting && onlyColor(census, awaiting)) {
        settled = awaiting;
        awaiting = undefined;
        for (const resolve of settledWaiters.splice(0)) resolve();
      }
    }
  };
  for (const informer of [slices, pods] as ListWatch<KubernetesObject>[]) {
    informer.on('change', judge);
    informer.on('error', (error) => {
      tally.examples.push(`watch error: ${String(error)}`);
    });
  }
  await Promise.all([slices.start(), pods.start()]);
  synced = true;
  judge();
  return {
    tally,
    /** Marks the start of a flip to `target`: mixing is allowed until the watcher sees only `target`. */
    flipping(target: Color) {
      settled = undefined;
      awaiting = target;
    },
    /** Resolves once the watcher has seen the flip complete. */
    settledOn(target: Color): Promise<void> {
      if (settled === target) return Promise.resolve();
      return new Promise((resolve) => settledWaiters.push(resolve));
    },
    async stop() {
      await Promise.all([slices.stop(), pods.stop()]);
    },
  };
}

// Two ways to run the cycles: the previous colour kept up (every rollback is a pure flip), and the previous colour
// scaled to zero after each flip (every rollback first scales it up and waits for it, every promote follows a
// redeploy that scales the idle colour back up).
describe.each([
  { mode: 'keep-previous', keepPrevious: true },
  { mode: 'scale-down', keepPrevious: false },
])(`invariant over ${CYCLES} promote and rollback cycles ($mode)`, ({ mode, keepPrevious }) => {
  it(
    'never leaves the active Service without a ready endpoint, and never mixes colours after a flip',
    async () => {
      const { kube, namespace } = await testCluster('promote-invariant');
      namespaces.push(namespace);
      const ns = namespace.name;
      await setupBlueGreen(kube, ns, { live: 'blue', replicas: REPLICAS });
      const watcher = await startWatcher(kube, ns, 'blue');
      await watcher.settledOn('blue');
      const common = {
        kube,
        app: APP,
        namespace: ns,
        environment: ENVIRONMENT,
        route: 'service' as const,
        timeoutMs: 60_000,
        gates: defaultGates(),
        scaleDownDelayMs: 0,
        keepPrevious,
      };
      const context = { kube, namespace: ns, host: recordingHost().host, deadline: Date.now() + 30 * 60_000 };
      const durations: number[] = [];
      let flips = 0;
      try {
        for (let cycle = 0; cycle < CYCLES; cycle++) {
          if (cycle > 0) {
            // What a redeploy of the idle colour does: scale it up (when it was scaled down), wait, record it.
            if (!keepPrevious) {
              await scaleColor(context, APP, 'green', REPLICAS);
              await waitForColorReady(context, APP, 'green', REPLICAS);
            }
            await markIdleAsCandidate(kube, ns, 'green', REPLICAS);
          }
          for (const [action, target] of [
            ['promote', 'green'],
            ['rollback', 'blue'],
          ] as const) {
            const { host } = recordingHost();
            watcher.flipping(target);
            const started = performance.now();
            const outcome =
              action === 'promote'
                ? await promoteRelease({ ...common, ...runContext(host), verifyForMs: 0 })
                : await rollbackRelease({ ...common, ...runContext(host) });
            durations.push(performance.now() - started);
            expect(outcome.activeColor).toBe(target);
            await watcher.settledOn(target);
            flips++;
          }
        }
      } finally {
        await watcher.stop();
      }
      const { tally } = watcher;
      const sorted = [...durations].sort((a, b) => a - b);
      const at = (q: number) =>
        Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0);
      // The figures for the report (not asserted: timings vary by machine).
      console.log(
        JSON.stringify({
          mode,
          cycles: CYCLES,
          flips,
          replicas: REPLICAS,
          instants: tally.instants,
          instantsDuringFlips: tally.duringFlip,
          setUpInstants: tally.beforeFirstSettle,
          setUpZeroReady: tally.zeroBeforeFirstSettle,
          zeroReadyInstants: tally.zeroReady,
          mixedInstantsAfterFlip: tally.mixedAfterFlip,
          flipMs: { median: at(0.5), p95: at(0.95), max: at(1) },
          examples: tally.examples,
        }),
      );
      expect(flips).toBe(CYCLES * 2);
      expect(tally.instants).toBeGreaterThanOrEqual(flips);
      expect(tally.zeroReady).toBe(0);
      expect(tally.mixedAfterFlip).toBe(0);
    },
    30 * 60_000,
  );
});
