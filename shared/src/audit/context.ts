import type { V1PodDisruptionBudget, V1Service } from '@kubernetes/client-node';
import type { ReleaseMap } from '../version/release-map.ts';
import type { ChartInfo } from './charts.ts';
import type { AuditConfig } from './config.ts';
import type { AuditObject } from './types.ts';
import { asWorkload, mapSelectorMatches, selectorMatches, type Workload } from './workloads.ts';

/** Everything rules see: the objects, their workloads, the config, the target version and the time. */
export interface AuditContext {
  objects: readonly AuditObject[];
  workloads: readonly Workload[];
  /** Chart folders among the audited paths, for the versioning rules. */
  charts: readonly ChartInfo[];
  /** The release map named in the config, when there is one. */
  releaseMap?: ReleaseMap;
  config: AuditConfig;
  /** The target Kubernetes minor version (of 1.x). */
  kubernetesMinor: number;
  /** `live` when the objects come from a cluster (then Pods and release records are among them). */
  mode: 'static' | 'live';
  now: Date;
  /** The objects of one kind, in input order. */
  ofKind(kind: string): readonly AuditObject[];
  /** The Services in the workload's namespace whose selector picks its pods. */
  servicesFor(workload: Workload): readonly AuditObject[];
  /** The PodDisruptionBudgets in the workload's namespace whose selector picks its pods. */
  disruptionBudgetsFor(workload: Workload): readonly AuditObject[];
}

export interface ContextOptions {
  config: AuditConfig;
  kubernetesMinor: number;
  mode?: 'static' | 'live';
  now?: Date;
  charts?: readonly ChartInfo[];
  releaseMap?: ReleaseMap;
}

/** Builds the audit context: indexes objects by kind and derives the workloads once. */
export function buildContext(objects: readonly AuditObject[], options: ContextOptions): AuditContext {
  const byKind = new Map<string, AuditObject[]>();
  for (const target of objects) {
    const kind = target.object.kind ?? '';
    const list = byKind.get(kind);
    if (list) list.push(target);
    else byKind.set(kind, [target]);
  }
  const workloads: Workload[] = [];
  for (const target of objects) {
    const workload = asWorkload(target);
    if (workload) workloads.push(workload);
  }
  const ofKind = (kind: string) => byKind.get(kind) ?? [];
  // Services and PodDisruptionBudgets by namespace, so matching pods to them does not scan every namespace.
  const byNamespace = new Map<string, AuditObject[]>();
  const inNamespace = (kind: string, namespace: string | undefined) => {
    const key = `${kind}\u0000${namespace ?? ''}`;
    let list = byNamespace.get(key);
    if (!list) {
      list = ofKind(kind).filter((target) => (target.object.metadata?.namespace ?? '') === (namespace ?? ''));
      byNamespace.set(key, list);
    }
    return list;
  };
  return {
    objects,
    workloads,
    charts: options.charts ?? [],
    releaseMap: options.releaseMap,
    config: options.config,
    kubernetesMinor: options.kubernetesMinor,
    mode: options.mode ?? 'static',
    now: options.now ?? new Date(),
    ofKind,
    servicesFor: (workload) =>
      inNamespace('Service', workload.namespace).filter((service) =>
        mapSelectorMatches((service.object as V1Service).spec?.selector, workload.podLabels),
      ),
    disruptionBudgetsFor: (workload) =>
      inNamespace('PodDisruptionBudget', workload.namespace).filter((pdb) =>
        selectorMatches((pdb.object as V1PodDisruptionBudget).spec?.selector, workload.podLabels),
      ),
  };
}
