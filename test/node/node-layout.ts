/**
 * The test node's fixed facts, stated once: its name, its bridge and address ranges (documentation and benchmark
 * benchmarking ranges of RFC 2544, routed nowhere). One node per machine; its state lives in testcluster-state.ts.
 */
export const NODE_NAME = 'gwc-node';
/** The bridge every pod is plugged into; the host is 198.18.0.1 on it. */
export const BRIDGE = 'gwc-node0';
export const POD_SUBNET = '198.18.0.0/24';
export const POD_PREFIX = 24;
/** The host on the bridge: the pods' gateway, the API server's and the kubelet's address. */
export const HOST_IP = '198.18.0.1';
export const POD_RANGE_START = '198.18.0.10';
export const SERVICE_RANGE = '198.19.0.0/16';
export const KUBERNETES_SERVICE_IP = '198.19.0.1';
export const DNS_SERVICE_IP = '198.19.0.10';
/** Both ranges together: nothing with these addresses may leave through another interface. */
export const NODE_RANGES = '198.18.0.0/15';
export const API_PORT = 6443;
export const CLUSTER_DOMAIN = 'cluster.local';
/** The routing table for traffic from the bridge, which knows the bridge and nothing else. */
export const ROUTING_TABLE = 198;
/** Our own nftables table, which drops anything that would leave the node's ranges. */
export const GUARD_TABLE = 'gwc-node-guard';

