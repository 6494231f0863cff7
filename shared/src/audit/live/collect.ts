import {
  AppsV1Api,
  AutoscalingV2Api,
  BatchV1Api,
  CoreV1Api,
  type KubernetesObject,
  NetworkingV1Api,
  PolicyV1Api,
  VersionApi,
} from '@kubernetes/client-node';
import type { Kube } from '../../kube/client.ts';
import { kubeError, statusCode } from '../../kube/errors.ts';
import { GreenlightError } from '../../runtime/errors.ts';
import type { AuditObject } from '../types.ts';

/** What live mode reads from the cluster. */
export interface LiveSnapshot {
  objects: AuditObject[];
  /** The API server's version (`v1.36.3`). */
  kubernetesVersion?: string;
  namespaces: string[] | 'all';
}

interface Listed {
  items: KubernetesObject[];
}

/** One kind to list: namespaced and cluster-wide calls, and the apiVersion/kind the list items lack. */
interface Lister {
  apiVersion: string;
  kind: string;
  plural: string;
  inNamespace(namespace: string): Promise<Listed>;
  everywhere(): Promise<Listed>;
}

function listers(kube: Kube): Lister[] {
  const core = kube.config.makeApiClient(CoreV1Api);
  const apps = kube.config.makeApiClient(AppsV1Api);
  const batch = kube.config.makeApiClient(BatchV1Api);
  const policy = kube.config.makeApiClient(PolicyV1Api);
  const networking = kube.config.makeApiClient(NetworkingV1Api);
  const autoscaling = kube.config.makeApiClient(AutoscalingV2Api);
  const records = { labelSelector: 'app.kubernetes.io/managed-by=greenlight' };
  return [
    {
      apiVersion: 'v1',
      kind: 'Pod',
      plural: 'pods',
      inNamespace: (namespace) => core.listNamespacedPod({ namespace }),
      everywhere: () => core.listPodForAllNamespaces(),
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      plural: 'services',
      inNamespace: (namespace) => core.listNamespacedService({ namespace }),
      everywhere: () => core.listServiceForAllNamespaces(),
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      plural: 'configmaps',
      inNamespace: (namespace) => core.listNamespacedConfigMap({ namespace, ...records }),
      everywhere: () => core.listConfigMapForAllNamespaces(records),
    },
    {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      plural: 'persistentvolumeclaims',
      inNamespace: (namespace) => core.listNamespacedPersistentVolumeClaim({ namespace }),
      everywhere: () => core.listPersistentVolumeClaimForAllNamespaces(),
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      plural: 'deployments',
      inNamespace: (namespace) => apps.listNamespacedDeployment({ namespace }),
      everywhere: () => apps.listDeploymentForAllNamespaces(),
    },
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      plural: 'statefulsets',
      inNamespace: (namespace) => apps.listNamespacedStatefulSet({ namespace }),
      everywhere: () => apps.listStatefulSetForAllNamespaces(),
    },
    {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      plural: 'daemonsets',
      inNamespace: (namespace) => apps.listNamespacedDaemonSet({ namespace }),
      everywhere: () => apps.listDaemonSetForAllNamespaces(),
    },
    {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      plural: 'cronjobs',
      inNamespace: (namespace) => batch.listNamespacedCronJob({ namespace }),
      everywhere: () => batch.listCronJobForAllNamespaces(),
    },
    {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      plural: 'poddisruptionbudgets',
      inNamespace: (namespace) => policy.listNamespacedPodDisruptionBudget({ namespace }),
      everywhere: () => policy.listPodDisruptionBudgetForAllNamespaces(),
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      plural: 'networkpolicies',
      inNamespace: (namespace) => networking.listNamespacedNetworkPolicy({ namespace }),
      everywhere: () => networking.listNetworkPolicyForAllNamespaces(),
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      plural: 'ingresses',
      inNamespace: (namespace) => networking.listNamespacedIngress({ namespace }),
      everywhere: () => networking.listIngressForAllNamespaces(),
    },
    {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      plural: 'horizontalpodautoscalers',
      inNamespace: (namespace) => autoscaling.listNamespacedHorizontalPodAutoscaler({ namespace }),
      everywhere: () => autoscaling.listHorizontalPodAutoscalerForAllNamespaces(),
    },
  ];
}

/** A failed call as a GreenlightError; a refused permission points at the Role audit needs, not the deployer's. */
function auditKubeError(error: unknown, kube: Kube, what: string): GreenlightError {
  const failure = kubeError(error, { what, server: kube.server });
  if (statusCode(error) !== 403) return failure;
  return new GreenlightError({
    what: failure.what,
    reason: failure.reason,
    hint: 'bind the identity in the kubeconfig to the read-only Role rbac/auditor-role.yaml (as a ClusterRole for all namespaces; see docs/audit.md#permissions), or narrow `namespaces` to those it may read',
    cause: error,
  });
}

/**
 * Reads what live mode audits: workloads, their pods, Services, release records and the policies around them, in
 * `namespaces` (all namespaces when empty), and the API server's version. A missing permission fails with the
 * verb and resource to grant.
 */
export async function collectLive(
  kube: Kube,
  namespaces: readonly string[],
  signal?: AbortSignal,
): Promise<LiveSnapshot> {
  const objects: AuditObject[] = [];
  for (const lister of listers(kube)) {
    const scopes: (string | undefined)[] = namespaces.length > 0 ? [...namespaces] : [undefined];
    for (const namespace of scopes) {
      signal?.throwIfAborted();
      let listed: Listed;
      try {
        listed = namespace === undefined ? await lister.everywhere() : await lister.inNamespace(namespace);
      } catch (error) {
        throw auditKubeError(
          error,
          kube,
          `list ${lister.plural}${namespace ? ` in namespace ${namespace}` : ' in all namespaces'}`,
        );
      }
      for (const item of listed.items)
        objects.push({ object: { ...item, apiVersion: lister.apiVersion, kind: lister.kind } });
    }
  }
  let kubernetesVersion: string | undefined;
  try {
    kubernetesVersion = (await kube.config.makeApiClient(VersionApi).getCode()).gitVersion;
  } catch (error) {
    throw auditKubeError(error, kube, 'read the Kubernetes version');
  }
  return { objects, kubernetesVersion, namespaces: namespaces.length > 0 ? [...namespaces] : 'all' };
}
