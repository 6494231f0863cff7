import type { V1PersistentVolumeClaim, V1StatefulSet } from '@kubernetes/client-node';
import { defineRule, report } from './helpers.ts';

export const dataRules = [
  defineRule({
    id: 'GL-DAT-001',
    family: 'data',
    title: 'StatefulSet without volumeClaimTemplates',
    severity: 'warning',
    mode: 'both',
    why: 'A StatefulSet exists to give each replica its own volume; without claim templates its replicas share or lose their data.',
    fix: 'Add volumeClaimTemplates so each replica gets its own PersistentVolumeClaim, or use a Deployment if the app is stateless.',
    *check(context) {
      for (const target of context.ofKind('StatefulSet')) {
        const templates = (target.object as V1StatefulSet).spec?.volumeClaimTemplates ?? [];
        if (templates.length > 0) continue;
        yield report(
          target,
          ['spec'],
          `StatefulSet ${target.object.metadata?.name ?? '?'} has no volumeClaimTemplates`,
        );
      }
    },
  }),
  defineRule({
    id: 'GL-DAT-002',
    family: 'data',
    title: 'Replicas share a ReadWriteOnce volume',
    severity: 'error',
    mode: 'both',
    why: 'Two replicas writing one volume corrupt its data, and a ReadWriteOnce claim pins every replica to one node or leaves the others Pending.',
    fix: 'Use a StatefulSet with volumeClaimTemplates (one volume per replica), or a single replica.',
    *check(context) {
      for (const workload of context.workloads) {
        if (workload.kind !== 'Deployment' || (workload.replicas ?? 1) < 2) continue;
        for (const [index, volume] of (workload.spec.volumes ?? []).entries()) {
          const claimName = volume.persistentVolumeClaim?.claimName;
          if (!claimName) continue;
          const claim = context
            .ofKind('PersistentVolumeClaim')
            .find(
              (target) =>
                target.object.metadata?.name === claimName &&
                (target.object.metadata?.namespace ?? '') === (workload.namespace ?? ''),
            );
          const modes = (claim?.object as V1PersistentVolumeClaim | undefined)?.spec?.accessModes ?? [];
          if (!modes.some((mode) => mode === 'ReadWriteOnce' || mode === 'ReadWriteOncePod')) continue;
          yield report(
            workload.target,
            [...workload.specPath, 'volumes', index],
            `Deployment ${workload.name} runs ${workload.replicas} replicas on the ReadWriteOnce claim ${claimName}`,
          );
        }
      }
    },
  }),
];
