/**
 * API versions Kubernetes deprecated or stopped serving, current to Kubernetes 1.36, after the upstream
 * "Deprecated API Migration Guide" (kubernetes.io/docs/reference/using-api/deprecation-guide). The last removal
 * it lists is 1.32; `v1 Endpoints` is deprecated since 1.33 in favour of EndpointSlices and still served.
 */
export interface ApiChange {
  apiVersion: string;
  kinds: readonly string[];
  /** The minor version (of 1.x) that deprecated it. */
  deprecatedIn: number;
  /** The minor version that stopped serving it; undefined while it is still served. */
  removedIn?: number;
  /** What to use instead; undefined when nothing replaces it. */
  replacement?: string;
  note?: string;
}

/** The newest Kubernetes minor version the table knows; the default target version. */
export const NEWEST_KNOWN_MINOR = 36;

const apps = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet'];

export const API_CHANGES: readonly ApiChange[] = [
  {
    apiVersion: 'extensions/v1beta1',
    kinds: ['Deployment', 'DaemonSet', 'ReplicaSet'],
    deprecatedIn: 9,
    removedIn: 16,
    replacement: 'apps/v1',
  },
  {
    apiVersion: 'extensions/v1beta1',
    kinds: ['NetworkPolicy'],
    deprecatedIn: 9,
    removedIn: 16,
    replacement: 'networking.k8s.io/v1',
  },
  {
    apiVersion: 'extensions/v1beta1',
    kinds: ['PodSecurityPolicy'],
    deprecatedIn: 10,
    removedIn: 16,
    replacement: 'policy/v1beta1 (itself removed in 1.25)',
  },
  {
    apiVersion: 'extensions/v1beta1',
    kinds: ['Ingress'],
    deprecatedIn: 14,
    removedIn: 22,
    replacement: 'networking.k8s.io/v1',
  },
  { apiVersion: 'apps/v1beta1', kinds: apps, deprecatedIn: 9, removedIn: 16, replacement: 'apps/v1' },
  { apiVersion: 'apps/v1beta2', kinds: apps, deprecatedIn: 9, removedIn: 16, replacement: 'apps/v1' },
  {
    apiVersion: 'admissionregistration.k8s.io/v1beta1',
    kinds: ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'],
    deprecatedIn: 16,
    removedIn: 22,
    replacement: 'admissionregistration.k8s.io/v1',
  },
  {
    apiVersion: 'apiextensions.k8s.io/v1beta1',
    kinds: ['CustomResourceDefinition'],
    deprecatedIn: 16,
    removedIn: 22,
    replacement: 'apiextensions.k8s.io/v1',
  },
  {
    apiVersion: 'apiregistration.k8s.io/v1beta1',
    kinds: ['APIService'],
    deprecatedIn: 19,
    removedIn: 22,
    replacement: 'apiregistration.k8s.io/v1',
  },
  {
    apiVersion: 'authentication.k8s.io/v1beta1',
    kinds: ['TokenReview'],
    deprecatedIn: 19,
    removedIn: 22,
    replacement: 'authentication.k8s.io/v1',
  },
  {
    apiVersion: 'authorization.k8s.io/v1beta1',
    kinds: [
      'LocalSubjectAccessReview',
      'SelfSubjectAccessReview',
      'SubjectAccessReview',
      'SelfSubjectRulesReview',
    ],
    deprecatedIn: 19,
    removedIn: 22,
    replacement: 'authorization.k8s.io/v1',
  },
  {
    apiVersion: 'certificates.k8s.io/v1beta1',
    kinds: ['CertificateSigningRequest'],
    deprecatedIn: 19,
    removedIn: 22,
    replacement: 'certificates.k8s.io/v1',
  },
  {
    apiVersion: 'coordination.k8s.io/v1beta1',
    kinds: ['Lease'],
    deprecatedIn: 19,
    removedIn: 22,
    replacement: 'coordination.k8s.io/v1',
  },
  {
    apiVersion: 'networking.k8s.io/v1beta1',
    kinds: ['Ingress', 'IngressClass'],
    deprecatedIn: 19,
    removedIn: 22,
    replacement: 'networking.k8s.io/v1',
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1beta1',
    kinds: ['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'],
    deprecatedIn: 17,
    removedIn: 22,
    replacement: 'rbac.authorization.k8s.io/v1',
  },
  {
    apiVersion: 'scheduling.k8s.io/v1beta1',
    kinds: ['PriorityClass'],
    deprecatedIn: 14,
    removedIn: 22,
    replacement: 'scheduling.k8s.io/v1',
  },
  {
    apiVersion: 'storage.k8s.io/v1beta1',
    kinds: ['CSIDriver', 'CSINode', 'StorageClass', 'VolumeAttachment'],
    deprecatedIn: 19,
    removedIn: 22,
    replacement: 'storage.k8s.io/v1',
  },
  {
    apiVersion: 'batch/v1beta1',
    kinds: ['CronJob'],
    deprecatedIn: 21,
    removedIn: 25,
    replacement: 'batch/v1',
  },
  {
    apiVersion: 'discovery.k8s.io/v1beta1',
    kinds: ['EndpointSlice'],
    deprecatedIn: 21,
    removedIn: 25,
    replacement: 'discovery.k8s.io/v1',
  },
  {
    apiVersion: 'events.k8s.io/v1beta1',
    kinds: ['Event'],
    deprecatedIn: 22,
    removedIn: 25,
    replacement: 'events.k8s.io/v1',
  },
  {
    apiVersion: 'autoscaling/v2beta1',
    kinds: ['HorizontalPodAutoscaler'],
    deprecatedIn: 22,
    removedIn: 25,
    replacement: 'autoscaling/v2',
  },
  {
    apiVersion: 'policy/v1beta1',
    kinds: ['PodDisruptionBudget'],
    deprecatedIn: 21,
    removedIn: 25,
    replacement: 'policy/v1',
  },
  {
    apiVersion: 'policy/v1beta1',
    kinds: ['PodSecurityPolicy'],
    deprecatedIn: 21,
    removedIn: 25,
    note: 'replaced by Pod Security Admission (namespace labels), not by another API version',
  },
  {
    apiVersion: 'node.k8s.io/v1beta1',
    kinds: ['RuntimeClass'],
    deprecatedIn: 22,
    removedIn: 25,
    replacement: 'node.k8s.io/v1',
  },
  {
    apiVersion: 'autoscaling/v2beta2',
    kinds: ['HorizontalPodAutoscaler'],
    deprecatedIn: 23,
    removedIn: 26,
    replacement: 'autoscaling/v2',
  },
  {
    apiVersion: 'flowcontrol.apiserver.k8s.io/v1beta1',
    kinds: ['FlowSchema', 'PriorityLevelConfiguration'],
    deprecatedIn: 23,
    removedIn: 26,
    replacement: 'flowcontrol.apiserver.k8s.io/v1',
  },
  {
    apiVersion: 'storage.k8s.io/v1beta1',
    kinds: ['CSIStorageCapacity'],
    deprecatedIn: 24,
    removedIn: 27,
    replacement: 'storage.k8s.io/v1',
  },
  {
    apiVersion: 'flowcontrol.apiserver.k8s.io/v1beta2',
    kinds: ['FlowSchema', 'PriorityLevelConfiguration'],
    deprecatedIn: 26,
    removedIn: 29,
    replacement: 'flowcontrol.apiserver.k8s.io/v1',
  },
  {
    apiVersion: 'flowcontrol.apiserver.k8s.io/v1beta3',
    kinds: ['FlowSchema', 'PriorityLevelConfiguration'],
    deprecatedIn: 29,
    removedIn: 32,
    replacement: 'flowcontrol.apiserver.k8s.io/v1',
  },
  {
    apiVersion: 'v1',
    kinds: ['Endpoints'],
    deprecatedIn: 33,
    replacement: 'discovery.k8s.io/v1 EndpointSlice',
    note: 'still served; EndpointSlices replace it',
  },
];

/** The change that applies to `apiVersion` and `kind`, if any. */
export function apiChangeFor(apiVersion: string, kind: string): ApiChange | undefined {
  return API_CHANGES.find((change) => change.apiVersion === apiVersion && change.kinds.includes(kind));
}

/** Parses `1.33`, `v1.33.2` or `1.33.0-gke.1` into its minor version number; undefined when not 1.x. */
export function parseMinor(version: string): number | undefined {
  const match = /^v?1\.(\d+)(?:\.\d+)?(?:[-+].*)?$/.exec(version.trim());
  return match ? Number(match[1]) : undefined;
}
