import {
  AppsV1Api,
  AutoscalingV2Api,
  CoordinationV1Api,
  CoreV1Api,
  DiscoveryV1Api,
  KubeConfig,
  KubernetesObjectApi,
  type RequestContext,
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
  /** The run's signal: API requests started before it fires are aborted when it fires (see `kubeFromConfig`). */
  signal?: AbortSignal;
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

/** How long an API request started after the run's signal fired (clean-up) may take before it is aborted. */
export const CLEANUP_REQUEST_TIMEOUT_MS = 5_000;

/**
 * A KubeConfig that stands in for `base`: it holds the clusters, users, contexts and current context `base` had
 * when it was made, and `base` authenticates each of its requests. A subclass overrides
 * `applySecurityAuthentication` to add its own per-request behaviour after calling `super`'s.
 */
export class DelegatingKubeConfig extends KubeConfig {
  protected readonly base: KubeConfig;

  constructor(base: KubeConfig) {
    super();
    this.base = base;
    this.loadFromOptions({
      clusters: base.getClusters(),
      users: base.getUsers(),
      contexts: base.getContexts(),
      currentContext: base.getCurrentContext(),
    });
  }

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await this.base.applySecurityAuthentication(context);
  }
}

/**
 * A KubeConfig whose API requests are bound to the run's signal. client-node calls
 * `applySecurityAuthentication` for every request and its fetch takes the request's signal: a request started
 * before the run's signal fired carries that signal, so cancelling the run aborts it at once (a request the
 * server holds would otherwise keep the process alive until it is answered); a request started after it fired
 * is clean-up (switching traffic back, releasing the Lease, recording the failure) and runs with a timeout of
 * its own instead.
 */
class SignalBoundKubeConfig extends DelegatingKubeConfig {
  private readonly signal: AbortSignal;

  constructor(base: KubeConfig, signal: AbortSignal) {
    super(base);
    this.signal = signal;
  }

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const bound = this.signal.aborted ? AbortSignal.timeout(CLEANUP_REQUEST_TIMEOUT_MS) : this.signal;
    const own = context.getSignal();
    context.setSignal(own ? AbortSignal.any([own, bound]) : bound);
  }
}

/**
 * Builds a Kube from a KubeConfig that is already loaded. With `signal`, every API request started before the
 * signal fires is aborted when it fires, and every request started afterwards (clean-up) is aborted after
 * CLEANUP_REQUEST_TIMEOUT_MS.
 */
export function kubeFromConfig(loaded: KubeConfig, signal?: AbortSignal): Kube {
  const config = signal ? new SignalBoundKubeConfig(loaded, signal) : loaded;
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
 * `context` when given. Credentials are handed to `mask` before anything can log them. With `signal` (the run's),
 * API requests are bound to it as `kubeFromConfig` describes.
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
  return kubeFromConfig(config, options.signal);
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] ?? text;
}
