import { apiChangeFor } from '../api-versions.ts';
import { defineRule, report } from './helpers.ts';

function replacementText(replacement: string | undefined, note: string | undefined): string {
  if (replacement) return `use ${replacement}`;
  return note ?? 'it has no replacement';
}

export const lifecycleRules = [
  defineRule({
    id: 'GL-API-001',
    family: 'lifecycle',
    title: 'API version removed at the target Kubernetes version',
    severity: 'error',
    mode: 'both',
    why: 'The API server of the target version rejects objects of a removed API version: the deploy fails the day the cluster is upgraded.',
    fix: 'Move the object to the replacement API version before upgrading the cluster.',
    *check(context) {
      for (const target of context.objects) {
        const change = apiChangeFor(target.object.apiVersion ?? '', target.object.kind ?? '');
        if (!change?.removedIn || context.kubernetesMinor < change.removedIn) continue;
        yield report(
          target,
          ['apiVersion'],
          `${target.object.kind} ${target.object.metadata?.name ?? '?'} uses ${change.apiVersion}, removed in Kubernetes 1.${change.removedIn} (target 1.${context.kubernetesMinor}): ${replacementText(change.replacement, change.note)}`,
        );
      }
    },
  }),
  defineRule({
    id: 'GL-API-002',
    family: 'lifecycle',
    title: 'API version deprecated at the target Kubernetes version',
    severity: 'warning',
    mode: 'both',
    why: 'A deprecated API version will be removed by a later Kubernetes release; moving early avoids a rushed migration during an upgrade.',
    fix: 'Move the object to the replacement API version.',
    *check(context) {
      for (const target of context.objects) {
        const change = apiChangeFor(target.object.apiVersion ?? '', target.object.kind ?? '');
        if (!change || context.kubernetesMinor < change.deprecatedIn) continue;
        if (change.removedIn && context.kubernetesMinor >= change.removedIn) continue;
        const removal = change.removedIn ? `, removed in 1.${change.removedIn}` : '';
        yield report(
          target,
          ['apiVersion'],
          `${target.object.kind} ${target.object.metadata?.name ?? '?'} uses ${change.apiVersion}, deprecated since Kubernetes 1.${change.deprecatedIn}${removal}: ${replacementText(change.replacement, change.note)}`,
        );
      }
    },
  }),
];
