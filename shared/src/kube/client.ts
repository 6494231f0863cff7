import {
  AppsV1Api,
  AutoscalingV2Api,
  CoordinationV1Api,
  CoreV1Api,
  DiscoveryV1Api,
  KubeConfig,
  KubernetesObjectApi,
} from '@kubernetes/client-node';
import { GreenlightError } from '../runtime/errors.ts';

/** Where the kubeconfig comes from: its content (an action input), else KUBECONFIG, else ~/.kube/config. */
export interface KubeConnectOptions {
  /** Kubeconfig file content. Takes precedence over the environment. */
  kubeconfig?: string;
  /** Context to use; the kubeconfig's current context when empty. */
  context?: string;
  /** Environment holding KUBECONFIG (a path, or several separated by `:`). */
  env?: NodeJS.ProcessEnv;
  /** Called with every credential found in the kubeconfig, so the host can mask it in logs. */
  mask?: (secret: string) => void;
}

/** A connection to one cluster: the KubeConfig and the typed API clients Greenlight uses. */
export interface Kube {
  config: KubeConfig;
  /** The API server URL, for messages (never the credentials). */
  server: string;
  /** The context in use. */
  context: string;
  core: CoreV1Api;
  apps: AppsV1Api;
  autoscaling: AutoscalingV2Api;
  coordination: CoordinationV1Api;
  discovery: DiscoveryV1Api;
  /** Generic client for server-side apply of any kind. */
  objects: KubernetesObjectApi;
}

/** Builds a Kube from a KubeConfig that is already loaded. */
export function kubeFromConfig(config: KubeConfig): Kube {
  const cluster = config.getCurrentCluster();
  if (!cluster) {
    throw new GreenlightError({
      what: 'connect to Kubernetes',
      reason: `context "${config.getCurrentContext()}" names no cluster`,
      hint: 'check the kubeconfig: its current context must point at a cluster entry',
    });
  }
  return {
    config,
    server: cluster.server,
    context: config.getCurrentContext(),
    core: config.makeApiClient(CoreV1Api),
    apps: config.makeApiClient(AppsV1Api),
    autoscaling: config.makeApiClient(AutoscalingV2Api),
    coordination: config.makeApiClient(CoordinationV1Api),
    discovery: config.makeApiClient(DiscoveryV1Api),
    objects: KubernetesObjectApi.makeApiClient(config),
  };
}

/**
 * Connects to a cluster from kubeconfig content, or the KUBECONFIG path, or the default path, and selects
 * `context` when given. Credentials are handed to `mask` before anything can log them.
 */
export function connect(options: KubeConnectOptions = {}): Kube {
  const config = new KubeConfig();
  const env = options.env ?? process.env;
  const source = options.kubeconfig?.trim()
    ? 'the `kubeconfig` input'
    : env.KUBECONFIG
      ? `KUBECONFIG (${env.KUBECONFIG})`
      : '~/.kube/config';
  try {
    if (options.kubeconfig?.trim()) {
      config.loadFromString(options.kubeconfig);
    } else if (env.KUBECONFIG) {
      const paths = env.KUBECONFIG.split(':').filter(Boolean);
      if (paths.length === 1) config.loadFromFile(paths[0] as string);
      else config.loadFromDefault();
    } else {
      config.loadFromDefault();
    }
  } catch (error) {
    throw new GreenlightError({
      what: 'read kubeconfig',
      reason: `${source} could not be read: ${firstLine(error)}`,
      hint: 'pass the kubeconfig file content in `kubeconfig`, or set KUBECONFIG to a readable file',
      cause: error,
    });
  }
  for (const user of config.getUsers()) {
    for (const secret of [user.token, user.password, user.keyData, user.certData])
      if (secret) options.mask?.(secret);
  }
  if (options.context) {
    if (!config.getContextObject(options.context)) {
      const known = config.getContexts().map((c) => c.name);
      throw new GreenlightError({
        what: 'select kubeconfig context',
        reason: `${source} has no context "${options.context}" (it has: ${known.join(', ') || 'none'})`,
        hint: 'set `context` to one of the contexts listed, or leave it empty for the current context',
      });
    }
    config.setCurrentContext(options.context);
  }
  if (!config.getCurrentContext() || !config.getContextObject(config.getCurrentContext())) {
    throw new GreenlightError({
      what: 'select kubeconfig context',
      reason: `${source} has no current context`,
      hint: 'set `context`, or set current-context in the kubeconfig',
    });
  }
  return kubeFromConfig(config);
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] ?? text;
}
