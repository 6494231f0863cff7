// A process that is cancelled the way the runner cancels an action: SIGTERM fires the run's signal
// (withCancellation, as in the bundles), the work in flight stops, one clean-up request follows, and the process
// must then end by itself. cancellation.int.test.ts starts it with KUBECONFIG pointing at a fault proxy that
// holds one request, and times how long it takes to exit.
//
//   node cancelled-process.ts request <namespace>    reads ConfigMap `held` (the test holds that read)
//   node cancelled-process.ts watch <namespace>      waits by watch on pods `app=held` (the test holds the watch)
//   node cancelled-process.ts deadline <namespace>   the same wait with a 3 s deadline, no SIGTERM needed
import { connect } from '../../src/kube/client.ts';
import { podSource, watchUntil } from '../../src/kube/watch.ts';
import { withCancellation } from '../../src/runtime/command.ts';
import { describeError } from '../../src/runtime/errors.ts';

const [mode, namespace = 'default'] = process.argv.slice(2);

await withCancellation(async (signal) => {
  const kube = connect({ env: process.env, signal });
  try {
    if (mode === 'request') {
      await kube.core.readNamespacedConfigMap({ name: 'held', namespace });
    } else {
      await watchUntil(kube, [podSource(kube, namespace, 'app=held')] as const, () => undefined, {
        deadline: Date.now() + (mode === 'deadline' ? 3_000 : 120_000),
        signal,
        what: 'the pods app=held',
        onTimeout: () => new Error('deadline passed'),
      });
    }
    console.log('ended: without an error');
  } catch (error) {
    console.log(`ended: ${describeError(error)}`);
  }
  // Clean-up after cancellation: a request started after the signal fired must still work.
  const read = await kube.core.readNamespace({ name: namespace });
  console.log(`clean-up read Namespace ${read.metadata?.name}`);
});
