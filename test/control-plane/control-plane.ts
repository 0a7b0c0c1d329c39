/**
 * A real Kubernetes control plane for tests: etcd, kube-apiserver and kube-controller-manager built from Go
 * modules (see build-binaries.sh), on loopback with random free ports and TLS, an admin token and a kubeconfig.
 * With `node`, it serves the test node (test/node), where pods run; without, nothing runs pods.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { waitFor } from '../harness/wait.js';
import { BinaryProcess } from './binary-process.js';
import { ensureBinaries } from './binaries.js';
import { freePort, httpsGet } from './net-helpers.js';
import { createPki, pkiPaths, type Pki } from './pki.js';

export interface ControlPlane {
  /** Data, certificates, logs and the kubeconfig live here; removed by stop(). */
  readonly dir: string;
  readonly kubeconfigPath: string;
  /** https://127.0.0.1:<port> */
  readonly server: string;
  readonly token: string;
  /** The CA that signed the API server's certificate. */
  readonly ca: Buffer;
  /** Every write request the API server received so far (its audit log), oldest first. */
  auditedWrites(): AuditedWrite[];
  /** The admin kubeconfig. */
  kubeConfig(): KubeConfig;
  /** Writes a kubeconfig file for one of the NodeServing users; returns its path. */
  writeKubeconfigFor(user: string): string;
  readonly pki: Pki;
  /** A kubeconfig trusting this CA with another bearer token (a service account's) or another address (a proxy). */
  kubeConfigFor(options: { token?: string; server?: string }): KubeConfig;
  stop(): Promise<void>;
}

/** One write request as the API server's audit log recorded it. */
export interface AuditedWrite {
  verb: string;
  uri: string;
  userAgent: string;
  /** Epoch ms at which the API server received it. */
  receivedAt: number;
  status: number;
}

/** The audit policy: metadata of every request that can change something, nothing of reads. */
const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
    verbs: [create, update, patch, delete, deletecollection]
  - level: None
`;

export interface ControlPlaneOptions {
  /** Where to keep everything (created when missing); a fresh temp folder by default. */
  dir?: string;
  log?: (line: string) => void;
  /** Serve a node (test/node): listen where its pods and kubelet reach it, and authorize kubelets as nodes. */
  node?: NodeServing;
}

export interface NodeServing {
  address: string;
  port: number;
  serviceRange: string;
  /** The kubernetes Service's IP (the first of the range): in the serving certificate, as pods dial it. */
  serviceIp: string;
  /** Users with a bearer token each (kubelets, kube-proxy, scheduler): name -> groups. */
  users: Record<string, string[]>;
  /** Seconds without a heartbeat after which a node is marked NotReady (kube-controller-manager's default: 50). */
  nodeMonitorGraceSeconds?: number;
}

/**
 * Controllers that look after nodes, when there are: the node lifecycle controller lifts the not-ready taint a kubelet
 * registers with and marks a node that stops answering NotReady with the unreachable taints; the taint eviction
 * controller deletes the pods that do not tolerate those taints; the pod garbage collector removes pods whose node is
 * gone. Without the last two a dead node's pods would stay for ever.
 */
export const NODE_CONTROLLERS = ['node-lifecycle-controller', 'taint-eviction-controller', 'pod-garbage-collector-controller'];

/** Controllers the tests rely on; the namespace controller lets deleted namespaces finish terminating. */
export const CONTROLLERS = [
  'deployment-controller',
  'replicaset-controller',
  'statefulset-controller',
  'garbage-collector-controller',
  'endpoints-controller',
  'endpointslice-controller',
  'endpointslice-mirroring-controller',
  'namespace-controller',
  'serviceaccount-controller',
  'disruption-controller',
  // Publishes kube-root-ca.crt in every namespace, which a pod's service-account token volume needs.
  'root-ca-certificate-publisher-controller',
];


export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const log = options.log ?? (() => {});
  const binaries = ensureBinaries();
  const dir = options.dir ?? mkdtempSync(path.join(tmpdir(), 'gwc-control-plane-'));
  const pkiDir = path.join(dir, 'pki');
  const logDir = path.join(dir, 'logs');
  mkdirSync(pkiDir, { recursive: true });
  mkdirSync(logDir, { recursive: true });
  const started = Date.now();
  const node = options.node;
  const pki = createPki(pkiDir, node ? [node.address, node.serviceIp] : []);
  const ca = readFileSync(pki.caCert);
  const token = randomBytes(24).toString('hex');
  const tokenFile = path.join(pkiDir, 'tokens.csv');
  const userTokens = new Map(Object.keys(node?.users ?? {}).map((user) => [user, randomBytes(24).toString('hex')]));
  const tokenLines = [`${token},admin,admin,"system:masters"`];
  for (const [user, userToken] of userTokens) {
    const groups = node!.users[user]!;
    tokenLines.push(`${userToken},${user},${user}${groups.length > 0 ? `,"${groups.join(',')}"` : ''}`);
  }
  writeFileSync(tokenFile, tokenLines.join('\n') + '\n');
  const auditPolicy = path.join(dir, 'audit-policy.yaml');
  const auditLog = path.join(logDir, 'audit.log');
  writeFileSync(auditPolicy, AUDIT_POLICY);

  const [etcdPort, etcdPeerPort, freeApiPort, kcmPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const apiAddress = node?.address ?? '127.0.0.1';
  const apiPort = node?.port ?? freeApiPort;
  const server = `https://${apiAddress}:${apiPort}`;
  const kubeconfigPath = path.join(dir, 'kubeconfig');
  writeFileSync(kubeconfigPath, kubeconfig(server, ca, token));

  const processes: BinaryProcess[] = [];
  const stop = async () => {
    for (const proc of processes.reverse()) await proc.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const etcd = new BinaryProcess('etcd', binaries.etcd, [
      '--name=test',
      `--data-dir=${path.join(dir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${etcdPort}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      `--initial-cluster=test=http://127.0.0.1:${etcdPeerPort}`,
      '--unsafe-no-fsync',
      '--log-level=warn',
    ], path.join(logDir, 'etcd.log'));
    processes.push(etcd);
    await waitFor('etcd to be healthy', async () => {
      etcd.assertRunning();
      const response = await fetch(`http://127.0.0.1:${etcdPort}/health`);
      return response.ok;
    }, 30_000, 100);
    log(`etcd up after ${Date.now() - started} ms`);

    const apiserver = new BinaryProcess('kube-apiserver', binaries.kubeApiserver, [
      `--etcd-servers=http://127.0.0.1:${etcdPort}`,
      `--secure-port=${apiPort}`,
      `--bind-address=${apiAddress}`,
      `--advertise-address=${apiAddress}`,
      `--cert-dir=${pkiDir}`,
      `--tls-cert-file=${pki.servingCert}`,
      `--tls-private-key-file=${pki.servingKey}`,
      `--client-ca-file=${pki.caCert}`,
      `--token-auth-file=${tokenFile}`,
      ...(node
        ? [
            '--authorization-mode=Node,RBAC',
            '--enable-admission-plugins=NodeRestriction',
            `--service-cluster-ip-range=${node.serviceRange}`,
            `--kubelet-client-certificate=${pki.kubeletClientCert}`,
            `--kubelet-client-key=${pki.kubeletClientKey}`,
            '--kubelet-preferred-address-types=InternalIP',
          ]
        : ['--authorization-mode=RBAC', '--service-cluster-ip-range=10.0.0.0/24']),
      '--allow-privileged=true',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${pki.serviceAccountPub}`,
      `--service-account-signing-key-file=${pki.serviceAccountKey}`,
      '--enable-priority-and-fairness=false',
      `--audit-policy-file=${auditPolicy}`,
      `--audit-log-path=${auditLog}`,
      '--audit-log-mode=blocking',
      '--v=0',
    ], path.join(logDir, 'kube-apiserver.log'));
    processes.push(apiserver);
    await waitFor('kube-apiserver to be ready', async () => {
      apiserver.assertRunning();
      return (await httpsGet(`${server}/readyz`, { ca, token })).status === 200;
    }, 90_000, 200);
    log(`kube-apiserver ready after ${Date.now() - started} ms`);

    const kcm = new BinaryProcess('kube-controller-manager', binaries.kubeControllerManager, [
      `--kubeconfig=${kubeconfigPath}`,
      `--authentication-kubeconfig=${kubeconfigPath}`,
      `--authorization-kubeconfig=${kubeconfigPath}`,
      `--secure-port=${kcmPort}`,
      '--bind-address=127.0.0.1',
      '--leader-elect=false',
      `--controllers=${[...CONTROLLERS, ...(node ? NODE_CONTROLLERS : [])].join(',')}`,
      ...(node?.nodeMonitorGraceSeconds ? [`--node-monitor-grace-period=${node.nodeMonitorGraceSeconds}s`, '--node-monitor-period=2s'] : []),
      `--service-account-private-key-file=${pki.serviceAccountKey}`,
      `--root-ca-file=${pki.caCert}`,
      '--v=0',
    ], path.join(logDir, 'kube-controller-manager.log'));
    processes.push(kcm);
    await waitFor('kube-controller-manager to be healthy', async () => {
      kcm.assertRunning();
      return (await httpsGet(`https://127.0.0.1:${kcmPort}/healthz`, { insecure: true })).status === 200;
    }, 60_000, 200);
    log(`kube-controller-manager healthy after ${Date.now() - started} ms`);
  } catch (error) {
    await stop();
    throw error;
  }

  return controlPlaneIn(dir, server, token, userTokens, stop);
}

/** A control plane another process started in `dir` (the test node's): the same handle, and stop() leaves it running. */
export function connectControlPlane(dir: string): ControlPlane {
  const tokens = readFileSync(path.join(dir, 'pki', 'tokens.csv'), 'utf8').trim().split('\n').map((line) => line.split(','));
  const admin = tokens.find((fields) => fields[1] === 'admin')![0]!;
  const users = new Map(tokens.filter((fields) => fields[1] !== 'admin').map((fields) => [fields[1]!, fields[0]!]));
  const server = (JSON.parse(readFileSync(path.join(dir, 'kubeconfig'), 'utf8')) as { clusters: Array<{ cluster: { server: string } }> }).clusters[0]!.cluster.server;
  return controlPlaneIn(dir, server, admin, users, async () => {});
}

function controlPlaneIn(dir: string, server: string, token: string, userTokens: Map<string, string>, stop: () => Promise<void>): ControlPlane {
  const pkiDir = path.join(dir, 'pki');
  const pki = pkiPaths(pkiDir);
  const ca = readFileSync(pki.caCert);
  const kubeconfigPath = path.join(dir, 'kubeconfig');
  return {
    dir,
    kubeconfigPath,
    server,
    token,
    ca,
    auditedWrites() {
      return readAuditLog(path.join(dir, 'logs', 'audit.log'));
    },
    pki,
    writeKubeconfigFor(user) {
      const userToken = userTokens.get(user);
      if (!userToken) throw new Error(`no token for ${user}`);
      const file = path.join(pkiDir, `${user.replaceAll(':', '-')}.kubeconfig`);
      writeFileSync(file, kubeconfig(server, ca, userToken));
      return file;
    },
    kubeConfig() {
      const kc = new KubeConfig();
      kc.loadFromFile(kubeconfigPath);
      return kc;
    },
    kubeConfigFor(options) {
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [{ name: 'gwc-test', server: options.server ?? server, caData: ca.toString('base64') }],
        users: [{ name: 'user', token: options.token ?? token }],
        contexts: [{ name: 'gwc-test', cluster: 'gwc-test', user: 'user' }],
        currentContext: 'gwc-test',
      });
      return kc;
    },
    stop,
  };
}

function readAuditLog(file: string): AuditedWrite[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { verb: string; requestURI: string; userAgent?: string; requestReceivedTimestamp: string; responseStatus?: { code?: number } })
    .map((event) => ({
      verb: event.verb,
      uri: event.requestURI,
      userAgent: event.userAgent ?? '',
      receivedAt: Date.parse(event.requestReceivedTimestamp),
      status: event.responseStatus?.code ?? 0,
    }));
}

function kubeconfig(server: string, ca: Buffer, token: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'gwc-test', cluster: { server, 'certificate-authority-data': ca.toString('base64') } }],
    users: [{ name: 'admin', user: { token } }],
    contexts: [{ name: 'gwc-test', context: { cluster: 'gwc-test', user: 'admin', namespace: 'default' } }],
    'current-context': 'gwc-test',
  }, null, 2) + '\n';
}
