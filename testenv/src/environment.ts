// up, down and status of the whole test environment.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { ensureDebianPackages } from './apt.ts';
import type { KubeObject } from './kube.ts';
import { logFile, paths, repoRoot, versions } from './paths.ts';
import { ensurePki, kubeconfigYaml, type Pki, pkiLayout } from './pki.ts';
import {
  type Daemon,
  freePort,
  isRunning,
  portOpen,
  run,
  startDaemon,
  stopDaemon,
  waitUntil,
} from './proc.ts';
import {
  type DaemonRecord,
  formatEnv,
  readState,
  removeState,
  type State,
  withLock,
  writeState,
} from './state.ts';
import { ensureHelm, ensureK8s, ensureKwok, ensureNode24, type Tools } from './tools.ts';

export type Log = (line: string) => void;

const host = '127.0.0.1';
const nodeCount = 3;
/** Fake addresses KWOK hands to pods (nodes get 10.240.0.N). Nothing ever connects to them. */
const podCidr = '10.244.0.0/16';
const serviceCidr = '10.96.0.0/16';

/** Start order; `down` stops in reverse. */
const order = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kwok',
  'fault-proxy',
  'registry',
  'registry-auth',
  'exporter',
  'prometheus',
] as const;
type Name = (typeof order)[number];
const controlPlane: readonly Name[] = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kwok',
];

const portNames = [
  'etcd',
  'etcdPeer',
  'apiserver',
  'controllerManager',
  'scheduler',
  'kwok',
  'proxy',
  'proxyControl',
  'registry',
  'registryAuth',
  'exporter',
  'prometheus',
] as const;
type PortName = (typeof portNames)[number];

interface Context {
  log: Log;
  tools: Tools;
  pki: Pki;
  ports: Record<PortName, number>;
  state: State;
}

const files = {
  adminKubeconfig: path.join(paths.run, 'admin.kubeconfig'),
  proxyKubeconfig: path.join(paths.run, 'proxy-admin.kubeconfig'),
  kcmKubeconfig: path.join(paths.run, 'kube-controller-manager.kubeconfig'),
  schedulerKubeconfig: path.join(paths.run, 'kube-scheduler.kubeconfig'),
  kwokKubeconfig: path.join(paths.run, 'kwok.kubeconfig'),
  proxyConfig: path.join(paths.run, 'fault-proxy.json'),
  registryConfig: path.join(paths.run, 'registry.yml'),
  registryAuthConfig: path.join(paths.run, 'registry-auth.yml'),
  htpasswd: path.join(paths.run, 'registry.htpasswd'),
  prometheusConfig: path.join(paths.run, 'prometheus.yml'),
  storageConf: path.join(paths.containers, 'storage.conf'),
  registriesConf: path.join(paths.containers, 'registries.conf'),
};

// ---------------------------------------------------------------- probes

function get(url: string, options: https.RequestOptions = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const client = url.startsWith('https:') ? https : http;
    const req = client.get(url, { ...options, timeout: 3000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${url}: timed out`)));
    req.on('error', reject);
  });
}

function tlsAsAdmin(pki: Pki): https.RequestOptions {
  return {
    ca: fs.readFileSync(pki.ca.cert),
    cert: fs.readFileSync(pki.admin.cert),
    key: fs.readFileSync(pki.admin.key),
  };
}

async function healthy(name: Name, ctx: Context): Promise<boolean> {
  const p = ctx.ports;
  const tls = () => ({ ca: fs.readFileSync(ctx.pki.ca.cert) });
  const expect = async (
    url: string,
    ok: (status: number, body: string) => boolean,
    options?: https.RequestOptions,
  ) => {
    try {
      const { status, body } = await get(url, options);
      return ok(status, body);
    } catch {
      return false; // not answering yet: that is what a probe reports
    }
  };
  switch (name) {
    case 'etcd':
      return expect(`http://${host}:${p.etcd}/health`, (s, b) => s === 200 && b.includes('"health":"true"'));
    case 'kube-apiserver':
      return expect(`https://${host}:${p.apiserver}/readyz`, (s) => s === 200, tlsAsAdmin(ctx.pki));
    case 'kube-controller-manager':
      return expect(`https://${host}:${p.controllerManager}/healthz`, (s) => s === 200, tls());
    case 'kube-scheduler':
      return expect(`https://${host}:${p.scheduler}/healthz`, (s) => s === 200, tls());
    case 'kwok':
      return expect(`http://${host}:${p.kwok}/healthz`, (s) => s === 200);
    case 'fault-proxy':
      return expect(`http://${host}:${p.proxyControl}/healthz`, (s) => s === 200);
    case 'registry':
      return expect(`http://${host}:${p.registry}/v2/`, (s) => s === 200);
    case 'registry-auth':
      return expect(`http://${host}:${p.registryAuth}/v2/`, (s) => s === 401);
    case 'exporter':
      return expect(`http://${host}:${p.exporter}/healthz`, (s) => s === 200);
    case 'prometheus':
      return expect(`http://${host}:${p.prometheus}/-/ready`, (s) => s === 200);
  }
}

async function running(name: Name, ctx: Context): Promise<boolean> {
  const record = ctx.state.daemons[name];
  return !!record && isRunning(record) && (await healthy(name, ctx));
}

// ---------------------------------------------------------------- components

function start(name: Name, command: string, args: string[], ctx: Context, env?: NodeJS.ProcessEnv): Daemon {
  const log = logFile(name);
  const daemon = startDaemon(command, args, { cwd: paths.run, log, env: env ?? process.env });
  const record: DaemonRecord = { ...daemon, log };
  ctx.state.daemons[name] = record;
  writeState(ctx.state);
  return daemon;
}

async function startAndWait(
  name: Name,
  command: string,
  args: string[],
  ctx: Context,
  timeoutMs = 60_000,
  env?: NodeJS.ProcessEnv,
): Promise<void> {
  const daemon = start(name, command, args, ctx, env);
  await waitUntil(name, async () => ((await healthy(name, ctx)) ? true : undefined), {
    timeoutMs,
    intervalMs: 100,
    log: logFile(name),
    daemon,
  });
}

async function startComponent(name: Name, ctx: Context): Promise<void> {
  const { tools, pki, ports: p } = ctx;
  const k8s = tools.k8s;
  switch (name) {
    case 'etcd': {
      const dataDir = path.join(paths.data, 'etcd');
      fs.rmSync(dataDir, { recursive: true, force: true });
      fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      return startAndWait(
        name,
        k8s,
        [
          'etcd',
          `--data-dir=${dataDir}`,
          `--listen-client-url=http://${host}:${p.etcd}`,
          `--listen-peer-url=http://${host}:${p.etcdPeer}`,
        ],
        ctx,
      );
    }
    case 'kube-apiserver':
      return startAndWait(
        name,
        k8s,
        [
          'kube-apiserver',
          `--etcd-servers=http://${host}:${p.etcd}`,
          `--bind-address=${host}`,
          `--secure-port=${p.apiserver}`,
          `--advertise-address=${host}`,
          // The API server may not publish a loopback address in the `kubernetes` Endpoints.
          '--endpoint-reconciler-type=none',
          `--service-cluster-ip-range=${serviceCidr}`,
          `--tls-cert-file=${pki.apiserver.cert}`,
          `--tls-private-key-file=${pki.apiserver.key}`,
          `--client-ca-file=${pki.ca.cert}`,
          '--authorization-mode=Node,RBAC',
          '--anonymous-auth=true',
          `--service-account-issuer=https://kubernetes.default.svc.cluster.local`,
          `--service-account-key-file=${pki.saPub}`,
          `--service-account-signing-key-file=${pki.saKey}`,
          `--requestheader-client-ca-file=${pki.frontProxyCa.cert}`,
          '--requestheader-allowed-names=front-proxy-client',
          '--requestheader-username-headers=X-Remote-User',
          '--requestheader-group-headers=X-Remote-Group',
          '--requestheader-extra-headers-prefix=X-Remote-Extra-',
          `--proxy-client-cert-file=${pki.frontProxyClient.cert}`,
          `--proxy-client-key-file=${pki.frontProxyClient.key}`,
          '--allow-privileged=true',
          '--profiling=false',
          '--event-ttl=1h',
          `--cert-dir=${path.join(paths.run, 'kube-apiserver')}`,
          '--v=1',
        ],
        ctx,
        120_000,
      );
    case 'kube-controller-manager':
      return startAndWait(
        name,
        k8s,
        [
          'kube-controller-manager',
          `--kubeconfig=${files.kcmKubeconfig}`,
          `--authentication-kubeconfig=${files.kcmKubeconfig}`,
          `--authorization-kubeconfig=${files.kcmKubeconfig}`,
          `--bind-address=${host}`,
          `--secure-port=${p.controllerManager}`,
          `--tls-cert-file=${pki.loopback.cert}`,
          `--tls-private-key-file=${pki.loopback.key}`,
          '--leader-elect=false',
          '--controllers=*',
          '--use-service-account-credentials=true',
          `--service-account-private-key-file=${pki.saKey}`,
          `--root-ca-file=${pki.ca.cert}`,
          `--cluster-signing-cert-file=${pki.ca.cert}`,
          `--cluster-signing-key-file=${pki.ca.key}`,
          `--service-cluster-ip-range=${serviceCidr}`,
          '--profiling=false',
          '--v=1',
        ],
        ctx,
      );
    case 'kube-scheduler':
      return startAndWait(
        name,
        k8s,
        [
          'kube-scheduler',
          `--kubeconfig=${files.schedulerKubeconfig}`,
          `--authentication-kubeconfig=${files.schedulerKubeconfig}`,
          `--authorization-kubeconfig=${files.schedulerKubeconfig}`,
          `--bind-address=${host}`,
          `--secure-port=${p.scheduler}`,
          `--tls-cert-file=${pki.loopback.cert}`,
          `--tls-private-key-file=${pki.loopback.key}`,
          '--leader-elect=false',
          '--profiling=false',
          '--v=1',
        ],
        ctx,
      );
    case 'kwok':
      return startAndWait(
        name,
        tools.kwok,
        [
          `--kubeconfig=${files.kwokKubeconfig}`,
          `--config=${paths.stages}`,
          '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
          `--server-address=${host}:${p.kwok}`,
          `--cidr=${podCidr}`,
          '--node-lease-duration-seconds=40',
        ],
        ctx,
      );
    case 'fault-proxy': {
      fs.writeFileSync(
        files.proxyConfig,
        `${JSON.stringify(
          {
            host,
            port: p.proxy,
            controlPort: p.proxyControl,
            upstream: { host, port: p.apiserver },
            caFile: pki.ca.cert,
            serving: pki.loopback,
            frontProxyClient: pki.frontProxyClient,
          },
          null,
          2,
        )}\n`,
      );
      return startAndWait(name, tools.node, [paths.serve, 'fault-proxy', files.proxyConfig], ctx);
    }
    case 'registry':
    case 'registry-auth': {
      const auth = name === 'registry-auth';
      const storage = path.join(paths.data, name);
      fs.rmSync(storage, { recursive: true, force: true });
      fs.mkdirSync(storage, { recursive: true });
      if (auth) {
        const { stdout } = await run('htpasswd', [
          '-Bbn',
          ctx.state.registry.user,
          ctx.state.registry.password,
        ]);
        fs.writeFileSync(files.htpasswd, stdout, { mode: 0o600 });
      }
      const config = [
        'version: 0.1',
        'log:',
        '  level: info',
        '  formatter: text',
        '  accesslog:',
        '    disabled: false',
        'storage:',
        '  filesystem:',
        `    rootdirectory: ${JSON.stringify(storage)}`,
        '  delete:',
        '    enabled: true',
        'http:',
        `  addr: ${host}:${auth ? p.registryAuth : p.registry}`,
        `  secret: ${randomBytes(16).toString('hex')}`,
        ...(auth
          ? [
              'auth:',
              '  htpasswd:',
              '    realm: greenlight-testenv',
              `    path: ${JSON.stringify(files.htpasswd)}`,
            ]
          : []),
        '',
      ].join('\n');
      const file = auth ? files.registryAuthConfig : files.registryConfig;
      fs.writeFileSync(file, config);
      // A new registry is empty: the base image is pushed again.
      ctx.state.baseImage = undefined;
      return startAndWait(name, 'docker-registry', ['serve', file], ctx);
    }
    case 'exporter':
      return startAndWait(name, tools.node, [paths.serve, 'exporter', '--port', String(p.exporter)], ctx);
    case 'prometheus': {
      const dataDir = path.join(paths.data, 'prometheus');
      fs.rmSync(dataDir, { recursive: true, force: true });
      fs.mkdirSync(dataDir, { recursive: true });
      fs.writeFileSync(
        files.prometheusConfig,
        [
          'global:',
          '  scrape_interval: 1s',
          '  scrape_timeout: 1s',
          '  evaluation_interval: 1s',
          'scrape_configs:',
          '- job_name: testenv-exporter',
          '  static_configs:',
          `  - targets: ['${host}:${p.exporter}']`,
          '',
        ].join('\n'),
      );
      return startAndWait(
        name,
        'prometheus',
        [
          `--config.file=${files.prometheusConfig}`,
          `--storage.tsdb.path=${dataDir}`,
          `--web.listen-address=${host}:${p.prometheus}`,
          '--storage.tsdb.retention.time=6h',
          '--log.level=warn',
        ],
        ctx,
      );
    }
  }
}

// ---------------------------------------------------------------- cluster set-up

function writeKubeconfigs(ctx: Context): void {
  const { pki, ports: p } = ctx;
  const server = `https://${host}:${p.apiserver}`;
  const write = (file: string, content: string) => fs.writeFileSync(file, content, { mode: 0o600 });
  write(
    files.adminKubeconfig,
    kubeconfigYaml({ server, caFile: pki.ca.cert, user: 'testenv-admin', clientCert: pki.admin }),
  );
  write(
    files.proxyKubeconfig,
    kubeconfigYaml({
      server: `https://${host}:${p.proxy}`,
      caFile: pki.ca.cert,
      user: 'testenv-admin',
      clientCert: pki.admin,
    }),
  );
  write(
    files.kcmKubeconfig,
    kubeconfigYaml({
      server,
      caFile: pki.ca.cert,
      user: 'kube-controller-manager',
      clientCert: pki.controllerManager,
    }),
  );
  write(
    files.schedulerKubeconfig,
    kubeconfigYaml({ server, caFile: pki.ca.cert, user: 'kube-scheduler', clientCert: pki.scheduler }),
  );
  write(
    files.kwokKubeconfig,
    kubeconfigYaml({ server, caFile: pki.ca.cert, user: 'kwok', clientCert: pki.kwok }),
  );
}

/** Registers the fake nodes and waits until KWOK has made them Ready and the controllers run. */
async function prepareCluster(ctx: Context): Promise<void> {
  // Loaded here, not at the top: `up` on a running environment and `status` do without it.
  const { CoreV1Api, KubeConfig } = await import('@kubernetes/client-node');
  const { createIfMissing, watchUntil } = await import('./kube.ts');
  const kc = new KubeConfig();
  kc.loadFromFile(files.adminKubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const zones = ['zone-a', 'zone-b', 'zone-c'];
  for (let i = 1; i <= nodeCount; i++) {
    const name = `testenv-node-${i}`;
    await createIfMissing(() =>
      core.createNode({
        body: {
          metadata: {
            name,
            labels: {
              'kubernetes.io/hostname': name,
              'kubernetes.io/os': 'linux',
              'kubernetes.io/arch': 'amd64',
              'node.kubernetes.io/instance-type': 'kwok',
              'topology.kubernetes.io/zone': zones[(i - 1) % zones.length] as string,
              type: 'kwok',
            },
            annotations: {
              'kwok.x-k8s.io/node': 'fake',
              'node.alpha.kubernetes.io/ttl': '0',
              // Read by the node stage in testenv/kwok/stages.yaml.
              'testenv.greenlight.dev/internal-ip': `10.240.0.${i}`,
              'testenv.greenlight.dev/kubelet-version': versions.kubernetes,
            },
          },
          spec: {},
        },
      }),
    );
  }
  const ready = (node: KubeObject) =>
    (node.status?.conditions ?? []).some((c: KubeObject) => c.type === 'Ready' && c.status === 'True') &&
    !(node.spec?.taints ?? []).some((t: KubeObject) => t.key === 'node.kubernetes.io/not-ready');
  await watchUntil(
    kc,
    { path: '/api/v1/nodes', labelSelector: 'type=kwok' },
    (nodes) => ([...nodes.values()].filter(ready).length >= nodeCount ? true : undefined),
    {
      timeoutMs: 90_000,
      what: `${nodeCount} KWOK nodes Ready and untainted`,
      describe: (nodes) =>
        [...nodes.values()].map((n) => `${n.metadata.name}: ready=${ready(n)}`).join(', ') || 'no nodes',
    },
  );
  // The service account controller creates `default` in each namespace: proof the controllers run.
  await watchUntil(
    kc,
    { path: '/api/v1/namespaces/default/serviceaccounts', fieldSelector: 'metadata.name=default' },
    (sas) => (sas.size > 0 ? true : undefined),
    { timeoutMs: 90_000, what: 'the default ServiceAccount (controller manager running)' },
  );
  ctx.log(`cluster ready: ${nodeCount} KWOK nodes Ready, controllers running`);
}

// ---------------------------------------------------------------- images

function containersEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    STORAGE_DRIVER: 'vfs',
    BUILDAH_ISOLATION: 'chroot',
    CONTAINERS_STORAGE_CONF: files.storageConf,
    CONTAINERS_REGISTRIES_CONF: files.registriesConf,
  };
}

function writeContainersConfig(ctx: Context): void {
  fs.mkdirSync(paths.containers, { recursive: true });
  fs.writeFileSync(
    files.storageConf,
    [
      '[storage]',
      'driver = "vfs"',
      `runroot = ${JSON.stringify(path.join(paths.containers, 'run'))}`,
      `graphroot = ${JSON.stringify(path.join(paths.containers, 'storage'))}`,
      '',
    ].join('\n'),
  );
  fs.writeFileSync(
    files.registriesConf,
    [
      'unqualified-search-registries = []',
      '',
      '[[registry]]',
      `location = "${host}:${ctx.ports.registry}"`,
      'insecure = true',
      '',
      '[[registry]]',
      `location = "${host}:${ctx.ports.registryAuth}"`,
      'insecure = true',
      '',
    ].join('\n'),
  );
}

/**
 * A tiny base image, FROM scratch with Debian's static busybox and its applet
 * links, built with buildah and pushed to both registries.
 */
async function ensureBaseImage(ctx: Context): Promise<void> {
  const ref = `${host}:${ctx.ports.registry}/testenv/base:1`;
  if (ctx.state.baseImage?.ref === ref) return;
  const started = Date.now();
  const dir = path.join(paths.run, 'base-image');
  fs.rmSync(dir, { recursive: true, force: true });
  const bin = path.join(dir, 'rootfs', 'bin');
  fs.mkdirSync(bin, { recursive: true });
  fs.mkdirSync(path.join(dir, 'rootfs', 'tmp'), { recursive: true, mode: 0o1777 });
  fs.mkdirSync(path.join(dir, 'rootfs', 'etc'), { recursive: true });
  fs.copyFileSync('/bin/busybox', path.join(bin, 'busybox'));
  fs.chmodSync(path.join(bin, 'busybox'), 0o755);
  const { stdout } = await run('/bin/busybox', ['--list']);
  for (const applet of stdout.split('\n').map((s) => s.trim())) {
    if (applet && applet !== 'busybox' && /^[a-z0-9._[-]+$/.test(applet))
      fs.symlinkSync('busybox', path.join(bin, applet));
  }
  fs.writeFileSync(
    path.join(dir, 'rootfs', 'etc', 'passwd'),
    'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n',
  );
  fs.writeFileSync(path.join(dir, 'rootfs', 'etc', 'group'), 'root:x:0:\nnobody:x:65534:\n');
  fs.writeFileSync(
    path.join(dir, 'Containerfile'),
    ['FROM scratch', 'COPY rootfs/ /', 'ENV PATH=/bin', 'CMD ["/bin/sh"]', ''].join('\n'),
  );
  const env = containersEnv();
  const local = 'localhost/greenlight-testenv/base:1';
  const log = logFile('base-image');
  await run(
    'buildah',
    ['build', '--isolation=chroot', '-f', path.join(dir, 'Containerfile'), '-t', local, dir],
    { env, logTo: log },
  );
  const digestFile = path.join(dir, 'digest');
  await run('buildah', ['push', '--tls-verify=false', '--digestfile', digestFile, local, `docker://${ref}`], {
    env,
    logTo: log,
  });
  const digest = fs.readFileSync(digestFile, 'utf8').trim();
  const { user, password } = ctx.state.registry;
  await run(
    'buildah',
    [
      'push',
      '--tls-verify=false',
      '--creds',
      `${user}:${password}`,
      local,
      `docker://${host}:${ctx.ports.registryAuth}/testenv/base:1`,
    ],
    { env, logTo: log },
  );
  ctx.state.baseImage = { ref, digest };
  writeState(ctx.state);
  ctx.log(`base image ${ref}@${digest} (${Date.now() - started} ms)`);
}

// ---------------------------------------------------------------- env

function environmentVariables(ctx: Context): Record<string, string> {
  const p = ctx.ports;
  return {
    KUBECONFIG: files.adminKubeconfig,
    TESTENV_KUBECONFIG: files.adminKubeconfig,
    TESTENV_APISERVER: `https://${host}:${p.apiserver}`,
    TESTENV_CA_FILE: ctx.pki.ca.cert,
    TESTENV_K8S_VERSION: versions.kubernetes,
    TESTENV_PROXY_KUBECONFIG: files.proxyKubeconfig,
    TESTENV_PROXY_CONTROL: `http://${host}:${p.proxyControl}`,
    TESTENV_REGISTRY: `${host}:${p.registry}`,
    TESTENV_REGISTRY_AUTH: `${host}:${p.registryAuth}`,
    TESTENV_REGISTRY_USER: ctx.state.registry.user,
    TESTENV_REGISTRY_PASSWORD: ctx.state.registry.password,
    TESTENV_BASE_IMAGE: ctx.state.baseImage?.ref ?? '',
    TESTENV_BASE_IMAGE_DIGEST: ctx.state.baseImage?.digest ?? '',
    TESTENV_PROMETHEUS_URL: `http://${host}:${p.prometheus}`,
    TESTENV_EXPORTER_URL: `http://${host}:${p.exporter}`,
    TESTENV_HELM3: ctx.tools.helm3,
    TESTENV_HELM4: ctx.tools.helm4,
    TESTENV_KUBECTL: ctx.tools.kubectl,
    TESTENV_NODE: ctx.tools.node,
    TESTENV_LOGS: paths.logs,
    STORAGE_DRIVER: 'vfs',
    BUILDAH_ISOLATION: 'chroot',
    CONTAINERS_STORAGE_CONF: files.storageConf,
    CONTAINERS_REGISTRIES_CONF: files.registriesConf,
  };
}

// ---------------------------------------------------------------- up / down / status

export interface UpResult {
  env: Record<string, string>;
  /** False when everything was already running and healthy. */
  started: boolean;
  /** Names of the components this call started. */
  startedComponents: string[];
  ms: number;
}

async function gatherTools(log: Log): Promise<Tools> {
  // The two Go builds share the CPU; run them one after the other while the downloads go on beside them.
  const builds = (async () => {
    const k8s = await ensureK8s(log);
    const kwok = await ensureKwok(log);
    return { k8s, kwok };
  })();
  const [built, helm, node] = await Promise.all([builds, ensureHelm(log), ensureNode24(log)]);
  return { ...built, ...helm, node };
}

export async function up(options: { log?: Log } = {}): Promise<UpResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(`testenv: ${line}\n`));
  const startedAt = Date.now();
  return withLock(async () => {
    for (const dir of [paths.logs, paths.run, paths.data]) fs.mkdirSync(dir, { recursive: true });
    fs.mkdirSync(paths.pki, { recursive: true, mode: 0o700 });

    const previous = readState();
    if (!previous) {
      // A fresh environment: the logs of an earlier one would only confuse.
      for (const file of fs.readdirSync(paths.logs)) fs.rmSync(path.join(paths.logs, file), { force: true });
    }
    if (previous) {
      const ctx = {
        log,
        state: previous,
        ports: previous.ports as Context['ports'],
        pki: await ensurePki(paths.pki),
        tools: {} as Tools,
      };
      const states = await Promise.all(order.map((name) => running(name, ctx)));
      if (states.every(Boolean) && previous.baseImage) {
        writeEnvFile(previous.env);
        return { env: previous.env, started: false, startedComponents: [], ms: Date.now() - startedAt };
      }
    }

    await ensureDebianPackages(log);
    const tools = await gatherTools(log);
    const pki = await ensurePki(paths.pki);
    const state: State = previous ?? {
      version: 1,
      ports: {},
      daemons: {},
      registry: { user: 'greenlight', password: randomBytes(18).toString('base64url') },
      env: {},
      createdAt: new Date().toISOString(),
    };
    for (const name of portNames) if (!state.ports[name]) state.ports[name] = await freePort();
    const ctx: Context = { log, tools, pki, ports: state.ports as Context['ports'], state };
    writeState(state);
    writeKubeconfigs(ctx);
    writeContainersConfig(ctx);

    const startedComponents: string[] = [];
    // etcd or the API server gone: the control plane starts afresh, with an empty etcd.
    const coreUp = (await running('etcd', ctx)) && (await running('kube-apiserver', ctx));
    if (!coreUp) {
      for (const name of [...controlPlane].reverse()) await stopRecorded(name, ctx);
    }
    const ensure = async (name: Name) => {
      if (await running(name, ctx)) return;
      await stopRecorded(name, ctx);
      const port = portOf(name, ctx);
      if (await portOpen(port)) {
        throw new Error(
          `${name}: port ${port} is taken by another process; run \`npm run testenv -- down\`, then up`,
        );
      }
      const t0 = Date.now();
      await startComponent(name, ctx);
      startedComponents.push(name);
      log(`${name} ready on ${describePort(name, ctx)} (${Date.now() - t0} ms)`);
    };
    // Two independent chains, started side by side: the cluster, and the services around it.
    const cluster = async () => {
      await ensure('etcd');
      await ensure('kube-apiserver');
      await settleAll([ensure('kube-controller-manager'), ensure('kube-scheduler'), ensure('kwok')]);
      await prepareCluster(ctx);
    };
    const services = async () => {
      await settleAll([
        ensure('fault-proxy'),
        ensure('registry'),
        ensure('registry-auth'),
        ensure('exporter'),
      ]);
      await ensure('prometheus');
      await ensureBaseImage(ctx);
    };
    await settleAll([cluster(), services()]);

    state.env = environmentVariables(ctx);
    writeState(state);
    writeEnvFile(state.env);
    return {
      env: state.env,
      started: startedComponents.length > 0,
      startedComponents,
      ms: Date.now() - startedAt,
    };
  });
}

/** Like Promise.all, but waits for every promise to settle before it rejects with the first error. */
async function settleAll(promises: Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

function describePort(name: Name, ctx: Context): string {
  return `${host}:${portOf(name, ctx)}`;
}

function portOf(name: Name, ctx: Context): number {
  const p = ctx.ports;
  const ports: Record<Name, number> = {
    etcd: p.etcd,
    'kube-apiserver': p.apiserver,
    'kube-controller-manager': p.controllerManager,
    'kube-scheduler': p.scheduler,
    kwok: p.kwok,
    'fault-proxy': p.proxy,
    registry: p.registry,
    'registry-auth': p.registryAuth,
    exporter: p.exporter,
    prometheus: p.prometheus,
  };
  return ports[name];
}

async function stopRecorded(name: Name, ctx: { state: State }): Promise<void> {
  const record = ctx.state.daemons[name];
  if (!record) return;
  await stopDaemon(record);
  delete ctx.state.daemons[name];
  writeState(ctx.state);
}

function writeEnvFile(env: Record<string, string>): void {
  // Written aside and renamed, so a test reading it while `up` runs never sees half a file.
  const envTmp = `${paths.env}.${process.pid}.tmp`;
  fs.writeFileSync(
    envTmp,
    `# written by testenv up; source it: . ${path.relative(repoRoot, paths.env)}\n${formatEnv(env)}\n`,
    {
      mode: 0o600,
    },
  );
  fs.renameSync(envTmp, paths.env);
}

export interface DownResult {
  stopped: string[];
}

/** Stops every process `up` recorded (by pid and process group) and removes the run's data. */
export async function down(options: { log?: Log; removeLogs?: boolean } = {}): Promise<DownResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(`testenv: ${line}\n`));
  return withLock(async () => {
    const state = readState();
    const stopped: string[] = [];
    if (state) {
      for (const name of [...order].reverse()) {
        const record = state.daemons[name];
        if (!record) continue;
        if (isRunning(record)) stopped.push(name);
        await stopDaemon(record);
        delete state.daemons[name];
        writeState(state);
      }
    }
    removeState();
    fs.rmSync(paths.env, { force: true });
    fs.rmSync(paths.data, { recursive: true, force: true });
    fs.rmSync(paths.containers, { recursive: true, force: true });
    fs.rmSync(paths.run, { recursive: true, force: true });
    if (options.removeLogs) fs.rmSync(paths.logs, { recursive: true, force: true });
    log(stopped.length ? `stopped ${stopped.join(', ')}` : 'nothing was running');
    return { stopped };
  });
}

export interface ComponentStatus {
  name: string;
  pid?: number;
  address: string;
  running: boolean;
  healthy: boolean;
  log?: string;
}

export async function status(): Promise<{
  up: boolean;
  components: ComponentStatus[];
  env?: Record<string, string>;
}> {
  const state = readState();
  if (!state) return { up: false, components: [] };
  const ctx = {
    log: () => {},
    state,
    ports: state.ports as Context['ports'],
    pki: pkiLayout(paths.pki),
    tools: {} as Tools,
  };
  const components: ComponentStatus[] = [];
  for (const name of order) {
    const record = state.daemons[name];
    const alive = !!record && isRunning(record);
    components.push({
      name,
      ...(record ? { pid: record.pid, log: record.log } : {}),
      address: describePort(name, ctx),
      running: alive,
      healthy: alive && (await healthy(name, ctx)),
    });
  }
  return { up: components.every((c) => c.healthy), components, env: state.env };
}

/** The component logs of the current or last run. */
export function componentLogs(): string[] {
  if (!fs.existsSync(paths.logs)) return [];
  return fs
    .readdirSync(paths.logs)
    .sort()
    .map((name) => path.join(paths.logs, name));
}
