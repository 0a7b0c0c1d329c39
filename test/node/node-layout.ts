/**
 * The test cluster's fixed facts, stated once: the host's backbone bridge and the address of each node (documentation
 * and benchmarking ranges of RFC 2544, routed nowhere). The control plane runs on the host, at HOST_IP on the
 * backbone; every node is a network namespace of its own, plugged into the backbone, with its own pod bridge and pod
 * range. One cluster per machine; its state lives in testcluster-state.ts.
 */
/** The host's bridge that links the nodes (and the host) together; the host is HOST_IP on it. */
export const BRIDGE = 'gwc-node0';
export const BACKBONE_SUBNET = '198.18.0.0/24';
export const BACKBONE_PREFIX = 24;
/** The host on the backbone: the API server's address, and the way out of no node (it forwards nothing). */
export const HOST_IP = '198.18.0.1';
export const SERVICE_RANGE = '198.19.0.0/16';
export const KUBERNETES_SERVICE_IP = '198.19.0.1';
export const DNS_SERVICE_IP = '198.19.0.10';
/** Every address above: nothing with these addresses may leave through another interface. */
export const NODE_RANGES = '198.18.0.0/15';
export const API_PORT = 6443;
export const CLUSTER_DOMAIN = 'cluster.local';
/** The routing table for traffic from the backbone, which knows the backbone and nothing else. */
export const ROUTING_TABLE = 198;
/** Our own nftables table, which drops anything that would leave the cluster's ranges. */
export const GUARD_TABLE = 'gwc-node-guard';
/** Inside each node's network namespace: its link to the backbone and the bridge its pods are plugged into. */
export const NODE_UPLINK = 'gwc-uplink';
export const POD_BRIDGE = 'gwc-pods';
/** Node numbers run from 1; the backbone has room for more, but more than this would not fit in 2 cores anyway. */
export const MAX_NODES = 9;
/** Seconds without a heartbeat after which the controller manager marks a node NotReady (its default is 50). */
export const NODE_MONITOR_GRACE_SECONDS = 20;
/** The kubelet's lease lasts this long and is renewed every quarter of it (its default is 40). */
export const NODE_LEASE_SECONDS = 10;

export interface NodeLayout {
  /** 1, 2, ... */
  index: number;
  /** The Node's name, also its kubernetes.io/hostname label. */
  name: string;
  /** Its topology.kubernetes.io/zone label: every node a zone of its own. */
  zone: string;
  /** Its address on the backbone: the Node's InternalIP, where the kubelet listens. */
  ip: string;
  /** Its pods' range, on its pod bridge; the node is `podGateway` there. */
  podSubnet: string;
  podGateway: string;
  podRangeStart: string;
  /** The host's end of its link to the backbone (the other end is NODE_UPLINK in its namespace). */
  hostLink: string;
  /** Its kubelet's cgroup root, under every cgroup controller. */
  cgroupRoot: string;
}

export function nodeLayout(index: number): NodeLayout {
  if (!Number.isInteger(index) || index < 1 || index > MAX_NODES) throw new Error(`node number must be 1 to ${MAX_NODES}, got ${index}`);
  return {
    index,
    name: `gwc-node-${index}`,
    zone: `gwc-zone-${index}`,
    ip: `198.18.0.${10 + index}`,
    podSubnet: `198.18.${index}.0/24`,
    podGateway: `198.18.${index}.1`,
    podRangeStart: `198.18.${index}.10`,
    hostLink: `gwc-link${index}`,
    cgroupRoot: `/gwc-node-${index}`,
  };
}

/** The layouts of nodes 1 to `count`. */
export function clusterLayout(count: number): NodeLayout[] {
  if (!Number.isInteger(count) || count < 1 || count > MAX_NODES) throw new Error(`a test cluster has 1 to ${MAX_NODES} nodes, got ${count}`);
  return Array.from({ length: count }, (_, i) => nodeLayout(i + 1));
}

/** The node whose pod range holds `ip`, if any. */
export function nodeOfPodIp(ip: string): NodeLayout | undefined {
  const match = /^198\.18\.(\d+)\.\d+$/.exec(ip);
  const index = match ? Number(match[1]) : 0;
  return index >= 1 && index <= MAX_NODES ? nodeLayout(index) : undefined;
}
