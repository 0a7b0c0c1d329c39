/**
 * The cluster's network on the host, made by hand so that nothing leaves the machine: the backbone bridge the nodes
 * are plugged into, with the host (the control plane) on it; a route to each node's pod range through that node; a
 * route into the Service range through one node (the host runs no kube-proxy: that node's translates, as a load
 * balancer in front of a cluster would send to a node); no forwarding on the host, no NAT, a routing table for
 * traffic from the backbone that knows only the backbone, and an nftables table that drops anything with the
 * cluster's addresses on any other interface.
 */
import { existsSync } from 'node:fs';
import { BACKBONE_PREFIX, BACKBONE_SUBNET, BRIDGE, GUARD_TABLE, HOST_IP, NODE_RANGES, ROUTING_TABLE, SERVICE_RANGE, type NodeLayout } from './node-layout.js';
import { attempt, run } from './run-command.js';

const GUARD = `table inet ${GUARD_TABLE} {
  chain forward {
    type filter hook forward priority 0; policy accept;
    iifname "${BRIDGE}" oifname != "${BRIDGE}" counter drop
    oifname "${BRIDGE}" iifname != "${BRIDGE}" counter drop
  }
  chain output {
    type filter hook output priority 0; policy accept;
    oifname != { "${BRIDGE}", "lo" } ip saddr ${NODE_RANGES} counter drop
    oifname != { "${BRIDGE}", "lo" } ip daddr ${NODE_RANGES} counter drop
  }
}
`;

export function hostNetworkUp(): void {
  run('ip', ['link', 'add', BRIDGE, 'type', 'bridge']);
  run('ip', ['addr', 'add', `${HOST_IP}/${BACKBONE_PREFIX}`, 'dev', BRIDGE]);
  run('ip', ['link', 'set', BRIDGE, 'up']);
  run('ip', ['route', 'add', BACKBONE_SUBNET, 'dev', BRIDGE, 'table', String(ROUTING_TABLE)]);
  run('ip', ['route', 'add', 'unreachable', 'default', 'table', String(ROUTING_TABLE)]);
  run('ip', ['rule', 'add', 'iif', BRIDGE, 'lookup', String(ROUTING_TABLE), 'priority', String(ROUTING_TABLE)]);
  run('nft', ['-f', '-'], GUARD);
}

/** The host reaches `node`'s pods through it. */
export function routePodsThrough(node: NodeLayout): void {
  run('ip', ['route', 'replace', node.podSubnet, 'via', node.ip, 'dev', BRIDGE]);
}

/** The host's connections to Service addresses go through `node`, whose kube-proxy translates them. */
export function routeServicesThrough(node: NodeLayout): void {
  run('ip', ['route', 'replace', SERVICE_RANGE, 'via', node.ip, 'dev', BRIDGE, 'src', HOST_IP]);
}

/** The node the host's Service route goes through, if there is one. */
export function serviceGateway(): string | undefined {
  try {
    return /via (\S+)/.exec(run('ip', ['route', 'show', SERVICE_RANGE]))?.[1];
  } catch {
    return undefined;
  }
}

/** Removes what hostNetworkUp made (the routes through the bridge go with it); anything already gone is skipped. */
export function hostNetworkDown(): void {
  attempt('nft', ['delete', 'table', 'inet', GUARD_TABLE]);
  while (attempt('ip', ['rule', 'del', 'iif', BRIDGE, 'lookup', String(ROUTING_TABLE)]));
  attempt('ip', ['route', 'flush', 'table', String(ROUTING_TABLE)]);
  if (existsSync(`/sys/class/net/${BRIDGE}`)) attempt('ip', ['link', 'del', BRIDGE]);
}

/** Packets the guard dropped: anything but 0 means something tried to leave. */
export function guardDrops(): number {
  const listing = run('nft', ['list', 'table', 'inet', GUARD_TABLE]);
  return [...listing.matchAll(/counter packets (\d+)/g)].reduce((sum, match) => sum + Number(match[1]), 0);
}
