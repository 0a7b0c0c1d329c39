/**
 * The node's Kubernetes components, each a BinaryProcess with its config under the node's folder: kube-scheduler,
 * the kubelet (cgroup v1 allowed, oomScoreAdj left alone: no CAP_SYS_RESOURCE here) and kube-proxy in nftables
 * mode (no IPVS in this kernel; it writes only its own tables).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BinaryProcess } from '../control-plane/binary-process.js';
import type { Binaries } from '../control-plane/binaries.js';
import type { ControlPlane } from '../control-plane/control-plane.js';
import { CLUSTER_DOMAIN, DNS_SERVICE_IP, HOST_IP, NODE_NAME, NODE_RANGES } from './node-layout.js';

/** The identities the node's components authenticate as, with their groups (bound by RBAC's bootstrap policy). */
export const NODE_USERS: Record<string, string[]> = {
  [`system:node:${NODE_NAME}`]: ['system:nodes'],
  'system:kube-proxy': [],
  'system:kube-scheduler': [],
};

export function startScheduler(binaries: Binaries, controlPlane: ControlPlane, logDir: string): BinaryProcess {
  const kubeconfig = controlPlane.writeKubeconfigFor('system:kube-scheduler');
  return new BinaryProcess('kube-scheduler', binaries.kubeScheduler, [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    '--leader-elect=false',
    '--bind-address=127.0.0.1',
    '--secure-port=0',
    '--v=0',
  ], path.join(logDir, 'kube-scheduler.log'));
}

export function startKubelet(binaries: Binaries, controlPlane: ControlPlane, dir: string, logDir: string, containerdSocket: string): BinaryProcess {
  mkdirSync(path.join(dir, 'root'), { recursive: true });
  mkdirSync(path.join(dir, 'pod-logs'), { recursive: true });
  const resolvConf = path.join(dir, 'resolv.conf');
  // Empty: pods get the cluster DNS and nothing of the host's resolver.
  writeFileSync(resolvConf, '');
  const config = path.join(dir, 'config.yaml');
  writeFileSync(config, JSON.stringify({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    address: HOST_IP,
    port: 10250,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: 10248,
    authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: controlPlane.pki.caCert } },
    authorization: { mode: 'Webhook' },
    containerRuntimeEndpoint: `unix://${containerdSocket}`,
    imageServiceEndpoint: `unix://${containerdSocket}`,
    cgroupDriver: 'cgroupfs',
    cgroupsPerQOS: true,
    enforceNodeAllocatable: ['pods'],
    // The machine boots with cgroup v1 (hybrid): kubelet 1.34 still runs there when told to.
    failCgroupV1: false,
    failSwapOn: false,
    // Root here lacks CAP_SYS_RESOURCE: no process may lower its oom_score_adj.
    oomScoreAdj: 0,
    clusterDNS: [DNS_SERVICE_IP],
    clusterDomain: CLUSTER_DOMAIN,
    resolvConf,
    podLogsDir: path.join(dir, 'pod-logs'),
    rotateCertificates: false,
    serializeImagePulls: false,
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '1%', 'imagefs.available': '1%', 'nodefs.inodesFree': '1%' },
    maxPods: 60,
    syncFrequency: '10s',
    nodeStatusUpdateFrequency: '5s',
    fileCheckFrequency: '5s',
  }, null, 2));
  return new BinaryProcess('kubelet', binaries.kubelet, [
    `--config=${config}`,
    `--kubeconfig=${controlPlane.writeKubeconfigFor(`system:node:${NODE_NAME}`)}`,
    `--hostname-override=${NODE_NAME}`,
    `--node-ip=${HOST_IP}`,
    `--root-dir=${path.join(dir, 'root')}`,
    `--cert-dir=${path.join(dir, 'pki')}`,
    '--v=1',
  ], path.join(logDir, 'kubelet.log'));
}

export function startKubeProxy(binaries: Binaries, controlPlane: ControlPlane, dir: string, logDir: string): BinaryProcess {
  mkdirSync(dir, { recursive: true });
  const config = path.join(dir, 'config.yaml');
  writeFileSync(config, JSON.stringify({
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    mode: 'nftables',
    clientConnection: { kubeconfig: controlPlane.writeKubeconfigFor('system:kube-proxy') },
    hostnameOverride: NODE_NAME,
    clusterCIDR: NODE_RANGES,
    detectLocalMode: 'ClusterCIDR',
    // NodePorts only on the bridge address, never on the machine's own interfaces.
    nodePortAddresses: [`${HOST_IP}/32`],
    healthzBindAddress: '127.0.0.1:10256',
    metricsBindAddress: '127.0.0.1:10249',
    // Leave the host's conntrack sysctls as they are.
    conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
  }, null, 2));
  return new BinaryProcess('kube-proxy', binaries.kubeProxy, [`--config=${config}`, '--v=0'], path.join(logDir, 'kube-proxy.log'));
}
