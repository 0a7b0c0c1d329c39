/**
 * The cluster's NetworkPolicy engine: kube-router (built by build-binaries.sh at the version pinned in versions.env)
 * in firewall-only mode on every node, inside the node's namespaces, where it keeps the pods' ingress rules in
 * iptables (nf_tables backend) and ipsets, both of which go with the node's network namespace. It reads pods,
 * namespaces and policies as a user of its own with a ClusterRole of reads.
 */
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { BinaryProcess } from '../control-plane/binary-process.js';
import type { Binaries } from '../control-plane/binaries.js';
import type { ControlPlane } from '../control-plane/control-plane.js';
import { inNode } from './node-namespace.js';
import { SERVICE_RANGE, type NodeLayout } from './node-layout.js';

export const KUBE_ROUTER_USER = 'gwc-test:kube-router';
/** kube-router answers /healthz here, on every address of its node: 200 once its policy controller has synced. */
export const KUBE_ROUTER_HEALTH_PORT = 20244;

/** What kube-router reads (it starts informers for all of these, whatever it runs). */
export function kubeRouterRbac(): object {
  const name = 'gwc-test:kube-router';
  const read = ['get', 'list', 'watch'];
  return {
    apiVersion: 'v1',
    kind: 'List',
    items: [
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name },
        rules: [
          { apiGroups: [''], resources: ['namespaces', 'pods', 'services', 'nodes', 'endpoints'], verbs: read },
          { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: read },
          { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: read },
        ],
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: KUBE_ROUTER_USER }],
      },
    ],
  };
}

export function startKubeRouter(binaries: Binaries, controlPlane: ControlPlane, node: NodeLayout, holderPid: number, nodeDir: string): BinaryProcess {
  // In the node's folder, so that its command line names the node (teardown finds the node's processes by it).
  const kubeconfig = path.join(nodeDir, 'kube-router.kubeconfig');
  copyFileSync(controlPlane.writeKubeconfigFor(KUBE_ROUTER_USER), kubeconfig);
  return new BinaryProcess('kube-router', ...inNode(holderPid, binaries.kubeRouter, [
    `--kubeconfig=${kubeconfig}`,
    '--run-firewall=true',
    '--run-router=false',
    '--run-service-proxy=false',
    '--enable-cni=false',
    `--hostname-override=${node.name}`,
    `--service-cluster-ip-range=${SERVICE_RANGE}`,
    `--health-port=${KUBE_ROUTER_HEALTH_PORT}`,
    '--v=1',
  ]), path.join(nodeDir, 'logs', 'kube-router.log'));
}
