/**
 * The cluster's Kubernetes components besides the control plane, each a BinaryProcess: kube-scheduler on the host,
 * and on each node, inside its namespaces with its config under its folder, the kubelet (cgroup v1 allowed,
 * oomScoreAdj left alone: no CAP_SYS_RESOURCE here) and kube-proxy in nftables mode (no IPVS in this kernel; it
 * writes only its own tables).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BinaryProcess } from '../control-plane/binary-process.js';
import type { Binaries } from '../control-plane/binaries.js';
import type { ControlPlane } from '../control-plane/control-plane.js';
import { inNode } from './node-namespace.js';
import { CLUSTER_DOMAIN, DNS_SERVICE_IP, NODE_LEASE_SECONDS, POD_BRIDGE, type NodeLayout } from './node-layout.js';
import { KUBE_ROUTER_USER } from './network-policy-engine.js';

export const nodeUser = (node: NodeLayout) => `system:node:${node.name}`;

/**
 * The identities the cluster's components authenticate as, with their groups (bound by RBAC's bootstrap policy, and
 * for kube-router by its own ClusterRole): each kubelet its own node user, which the Node authorizer lets touch its
 * own Node and Lease only.
 */
export function nodeUsers(nodes: NodeLayout[]): Record<string, string[]> {
  return {
    ...Object.fromEntries(nodes.map((node) => [nodeUser(node), ['system:nodes']])),
    'system:kube-proxy': [],
    'system:kube-scheduler': [],
    [KUBE_ROUTER_USER]: [],
  };
}

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

export function startKubelet(binaries: Binaries, controlPlane: ControlPlane, node: NodeLayout, holderPid: number, nodeDir: string, containerdSocket: string): BinaryProcess {
  const dir = path.join(nodeDir, 'kubelet');
  mkdirSync(path.join(dir, 'root'), { recursive: true });
  mkdirSync(path.join(dir, 'pod-logs'), { recursive: true });
  const resolvConf = path.join(dir, 'resolv.conf');
  // Empty: pods get the cluster DNS and nothing of the host's resolver.
  writeFileSync(resolvConf, '');
  const config = path.join(dir, 'config.yaml');
  writeFileSync(config, JSON.stringify({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    address: node.ip,
    port: 10250,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: 10248,
    authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: controlPlane.pki.caCert } },
    authorization: { mode: 'Webhook' },
    containerRuntimeEndpoint: `unix://${containerdSocket}`,
    imageServiceEndpoint: `unix://${containerdSocket}`,
    cgroupDriver: 'cgroupfs',
    cgroupRoot: node.cgroupRoot,
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
    nodeLeaseDurationSeconds: NODE_LEASE_SECONDS,
    fileCheckFrequency: '5s',
  }, null, 2));
  return new BinaryProcess('kubelet', ...inNode(holderPid, binaries.kubelet, [
    `--config=${config}`,
    `--kubeconfig=${controlPlane.writeKubeconfigFor(nodeUser(node))}`,
    `--hostname-override=${node.name}`,
    `--node-ip=${node.ip}`,
    // The Node authorizer lets a kubelet set these labels on its own Node.
    `--node-labels=topology.kubernetes.io/zone=${node.zone}`,
    `--root-dir=${path.join(dir, 'root')}`,
    `--cert-dir=${path.join(dir, 'pki')}`,
    '--v=1',
  ]), path.join(nodeDir, 'logs', 'kubelet.log'));
}

export function startKubeProxy(binaries: Binaries, controlPlane: ControlPlane, node: NodeLayout, holderPid: number, nodeDir: string): BinaryProcess {
  const dir = path.join(nodeDir, 'kube-proxy');
  mkdirSync(dir, { recursive: true });
  const config = path.join(dir, 'config.yaml');
  writeFileSync(config, JSON.stringify({
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    mode: 'nftables',
    clientConnection: { kubeconfig: controlPlane.writeKubeconfigFor('system:kube-proxy') },
    hostnameOverride: node.name,
    // Traffic from the node's own pods is local; a connection from the host to a Service is masqueraded to the
    // node's address, as from a load balancer, so that its answer comes back through this node's translation.
    detectLocalMode: 'BridgeInterface',
    detectLocal: { bridgeInterface: POD_BRIDGE },
    // NodePorts only on the node's backbone address.
    nodePortAddresses: [`${node.ip}/32`],
    healthzBindAddress: '127.0.0.1:10256',
    metricsBindAddress: '127.0.0.1:10249',
    // Leave the host's conntrack sysctls as they are.
    conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
  }, null, 2));
  return new BinaryProcess('kube-proxy', ...inNode(holderPid, binaries.kubeProxy, [`--config=${config}`, '--v=0']), path.join(nodeDir, 'logs', 'kube-proxy.log'));
}
