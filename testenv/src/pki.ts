// Certificates and keys for the control plane, made with the openssl CLI.
//
//   ca                 signs every serving and client certificate below
//   front-proxy-ca     signs only front-proxy-client, which the fault proxy
//                      presents to the API server with X-Remote-User headers
//   sa                 service account token signing key pair
//
// Keys are ECDSA P-256: fast to generate and accepted everywhere in Kubernetes.
import fs from 'node:fs';
import path from 'node:path';
import { run } from './proc.ts';

export interface CertPair {
  cert: string;
  key: string;
}

export interface Pki {
  dir: string;
  ca: CertPair;
  frontProxyCa: CertPair;
  apiserver: CertPair;
  /** Serving certificate for loopback listeners (controller manager, scheduler, KWOK, fault proxy). */
  loopback: CertPair;
  admin: CertPair;
  controllerManager: CertPair;
  scheduler: CertPair;
  kwok: CertPair;
  frontProxyClient: CertPair;
  saKey: string;
  saPub: string;
}

const days = '3650';

export function pkiLayout(dir: string): Pki {
  const pair = (name: string): CertPair => ({
    cert: path.join(dir, `${name}.crt`),
    key: path.join(dir, `${name}.key`),
  });
  return {
    dir,
    ca: pair('ca'),
    frontProxyCa: pair('front-proxy-ca'),
    apiserver: pair('apiserver'),
    loopback: pair('loopback'),
    admin: pair('admin'),
    controllerManager: pair('kube-controller-manager'),
    scheduler: pair('kube-scheduler'),
    kwok: pair('kwok'),
    frontProxyClient: pair('front-proxy-client'),
    saKey: path.join(dir, 'sa.key'),
    saPub: path.join(dir, 'sa.pub'),
  };
}

/** Creates whatever is missing in `dir`; an existing, complete set is reused. */
export async function ensurePki(dir: string): Promise<Pki> {
  const pki = pkiLayout(dir);
  const complete = path.join(dir, '.complete');
  if (fs.existsSync(complete)) return pki;
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });

  await selfSigned(pki.ca, 'greenlight-testenv-ca');
  await selfSigned(pki.frontProxyCa, 'greenlight-testenv-front-proxy-ca');

  const loopbackNames = ['DNS:localhost', 'IP:127.0.0.1', 'IP:::1'];
  await issue(pki.ca, pki.apiserver, {
    subject: '/CN=kube-apiserver',
    usage: 'serverAuth',
    altNames: [
      ...loopbackNames,
      'DNS:kubernetes',
      'DNS:kubernetes.default',
      'DNS:kubernetes.default.svc',
      'DNS:kubernetes.default.svc.cluster.local',
      'IP:10.96.0.1',
    ],
  });
  await issue(pki.ca, pki.loopback, {
    subject: '/CN=greenlight-testenv-loopback',
    usage: 'serverAuth',
    altNames: loopbackNames,
  });
  // system:masters: the admin of the cluster, as kubeadm's admin.conf.
  await issue(pki.ca, pki.admin, {
    subject: '/O=system:masters/CN=greenlight-testenv-admin',
    usage: 'clientAuth',
  });
  await issue(pki.ca, pki.controllerManager, {
    subject: '/CN=system:kube-controller-manager',
    usage: 'clientAuth',
  });
  await issue(pki.ca, pki.scheduler, { subject: '/CN=system:kube-scheduler', usage: 'clientAuth' });
  // KWOK plays the kubelet of every fake node; it is not what the tests examine.
  await issue(pki.ca, pki.kwok, {
    subject: '/O=system:masters/CN=greenlight-testenv-kwok',
    usage: 'clientAuth',
  });
  await issue(pki.frontProxyCa, pki.frontProxyClient, {
    subject: '/CN=front-proxy-client',
    usage: 'clientAuth',
  });

  await run('openssl', [
    'genpkey',
    '-algorithm',
    'EC',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-out',
    pki.saKey,
  ]);
  await run('openssl', ['pkey', '-in', pki.saKey, '-pubout', '-out', pki.saPub]);

  for (const file of fs.readdirSync(dir)) fs.chmodSync(path.join(dir, file), 0o600);
  fs.writeFileSync(complete, `${new Date().toISOString()}\n`);
  return pki;
}

async function selfSigned(pair: CertPair, commonName: string): Promise<void> {
  await run('openssl', [
    'req',
    '-x509',
    '-new',
    '-nodes',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-keyout',
    pair.key,
    '-out',
    pair.cert,
    '-days',
    days,
    '-subj',
    `/CN=${commonName}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
  ]);
}

async function issue(
  ca: CertPair,
  pair: CertPair,
  options: { subject: string; usage: 'serverAuth' | 'clientAuth'; altNames?: string[] },
): Promise<void> {
  const csr = `${pair.cert}.csr`;
  const ext = `${pair.cert}.ext`;
  await run('openssl', [
    'req',
    '-new',
    '-nodes',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-keyout',
    pair.key,
    '-out',
    csr,
    '-subj',
    options.subject,
  ]);
  const lines = [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    `extendedKeyUsage=${options.usage}`,
  ];
  if (options.altNames?.length) lines.push(`subjectAltName=${options.altNames.join(',')}`);
  fs.writeFileSync(ext, `${lines.join('\n')}\n`);
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.cert,
    '-CAkey',
    ca.key,
    '-CAcreateserial',
    '-out',
    pair.cert,
    '-days',
    days,
    '-sha256',
    '-extfile',
    ext,
  ]);
  fs.rmSync(csr);
  fs.rmSync(ext);
}

/** A kubeconfig that embeds the CA and a client certificate (or a bearer token). */
export function kubeconfigYaml(options: {
  server: string;
  caFile: string;
  user: string;
  clientCert?: CertPair;
  token?: string;
  namespace?: string;
}): string {
  const b64 = (file: string) => fs.readFileSync(file).toString('base64');
  const userLines = options.clientCert
    ? [
        `    client-certificate-data: ${b64(options.clientCert.cert)}`,
        `    client-key-data: ${b64(options.clientCert.key)}`,
      ]
    : [`    token: ${JSON.stringify(options.token ?? '')}`];
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: testenv',
    '  cluster:',
    `    server: ${JSON.stringify(options.server)}`,
    `    certificate-authority-data: ${b64(options.caFile)}`,
    'users:',
    `- name: ${JSON.stringify(options.user)}`,
    '  user:',
    ...userLines,
    'contexts:',
    '- name: testenv',
    '  context:',
    '    cluster: testenv',
    `    user: ${JSON.stringify(options.user)}`,
    ...(options.namespace ? [`    namespace: ${JSON.stringify(options.namespace)}`] : []),
    'current-context: testenv',
    '',
  ].join('\n');
}
