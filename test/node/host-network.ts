/**
 * The node's network on the host, made by hand so that nothing leaves the machine: a bridge the pods are plugged
 * into, forwarding on that bridge alone (the global ip_forward stays as it is), no NAT, a routing table for traffic
 * from the bridge that knows only the bridge, a route that keeps host-to-Service traffic on the bridge, and an
 * nftables table that drops anything with the node's addresses on any other interface.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { BRIDGE, GUARD_TABLE, HOST_IP, NODE_RANGES, POD_PREFIX, POD_SUBNET, ROUTING_TABLE, SERVICE_RANGE } from './node-layout.js';
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
  run('ip', ['addr', 'add', `${HOST_IP}/${POD_PREFIX}`, 'dev', BRIDGE]);
  run('ip', ['link', 'set', BRIDGE, 'up']);
  writeFileSync(`/proc/sys/net/ipv4/conf/${BRIDGE}/forwarding`, '1');
  run('ip', ['route', 'add', SERVICE_RANGE, 'dev', BRIDGE, 'src', HOST_IP]);
  run('ip', ['route', 'add', POD_SUBNET, 'dev', BRIDGE, 'table', String(ROUTING_TABLE)]);
  run('ip', ['route', 'add', 'unreachable', 'default', 'table', String(ROUTING_TABLE)]);
  run('ip', ['rule', 'add', 'iif', BRIDGE, 'lookup', String(ROUTING_TABLE), 'priority', String(ROUTING_TABLE)]);
  run('nft', ['-f', '-'], GUARD);
}

/** Removes what hostNetworkUp made; anything already gone is skipped. */
export function hostNetworkDown(): void {
  attempt('nft', ['delete', 'table', 'inet', GUARD_TABLE]);
  while (attempt('ip', ['rule', 'del', 'iif', BRIDGE, 'lookup', String(ROUTING_TABLE)]));
  attempt('ip', ['route', 'flush', 'table', String(ROUTING_TABLE)]);
  attempt('ip', ['route', 'del', SERVICE_RANGE, 'dev', BRIDGE]);
  if (existsSync(`/sys/class/net/${BRIDGE}`)) attempt('ip', ['link', 'del', BRIDGE]);
}

/** Packets the guard dropped: anything but 0 means something tried to leave. */
export function guardDrops(): number {
  const listing = run('nft', ['list', 'table', 'inet', GUARD_TABLE]);
  return [...listing.matchAll(/counter packets (\d+)/g)].reduce((sum, match) => sum + Number(match[1]), 0);
}
