/**
 * A node's own namespaces. A holder process (the node's pause program, its command line naming the node's folder)
 * owns a new network namespace and a new mount namespace, a slave of the host's: host mounts still show inside, the
 * node's own mounts (container filesystems, volumes, pod network namespaces) stay inside and vanish with it. Every
 * component of the node joins both with nsenter.
 * Not `ip netns exec`: it remounts /sys, which leaves /sys/fs/cgroup empty for runc and the kubelet. Not `ip netns
 * add` either: it makes /run/netns a shared mount that copies the pods' namespace mounts, which then cannot be removed.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { HOST_NETNS, netnsOf, programOf } from './host-processes.js';
import path from 'node:path';
import { waitFor } from '../harness/wait.js';
import { routePodsThrough } from './host-network.js';
import { createCgroupRoot } from './node-cgroups.js';
import { BACKBONE_PREFIX, BRIDGE, HOST_IP, NODE_UPLINK, POD_BRIDGE, SERVICE_RANGE, type NodeLayout } from './node-layout.js';
import { run } from './run-command.js';

/**
 * Paths the kubelet uses whatever its --root-dir says: each node gets its own folder bound over them inside its mount
 * namespace (a second kubelet would otherwise delete the first one's device-plugin socket, and clean up the first
 * one's container log links). The paths themselves are made on the host if missing, and removed at the end
 * (host-leftovers.ts).
 */
const KUBELET_FIXED_PATHS = ['/var/lib/kubelet/device-plugins', '/var/log/containers'];
const HOLDER_PID_FILE = 'holder.pid';

/** `nsenter` arguments that run a command inside the node whose holder is `holderPid`. */
export function inNode(holderPid: number, command: string, args: string[] = []): [string, string[]] {
  return ['nsenter', ['--target', String(holderPid), '--net', '--mount', '--', command, ...args]];
}

/** Runs a tool inside the node, throwing with its stderr when it fails. */
export function runInNode(holderPid: number, command: string, args: string[], input?: string): string {
  return run(...inNode(holderPid, command, args), input);
}

/** The holder's pid as written by createNodeNamespaces, if its folder has one. */
export function holderPidOf(dir: string): number | undefined {
  try {
    return Number(readFileSync(path.join(dir, HOLDER_PID_FILE), 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Starts the node's holder, wires its network namespace to the backbone (routes to the pod ranges of `peers`, the
 * other nodes), binds its own folders over the kubelet's fixed paths and makes its cgroup root. Returns the holder's pid.
 */
export async function createNodeNamespaces(node: NodeLayout, peers: NodeLayout[], dir: string, pause: string): Promise<number> {
  mkdirSync(dir, { recursive: true });
  const holder = spawn('unshare', ['--net', '--mount', '--propagation', 'slave', '--', pause, dir], { detached: true, stdio: 'ignore' });
  holder.unref();
  const pid = holder.pid!;
  writeFileSync(path.join(dir, HOLDER_PID_FILE), String(pid));
  // unshare has made the namespaces once it has become the pause program.
  await waitFor(`node ${node.name}'s namespaces`, () => {
    if (holder.exitCode !== null) throw new Error(`the holder of ${node.name} exited with ${holder.exitCode}`);
    return programOf(pid) === pause && netnsOf(pid) !== HOST_NETNS;
  }, 10_000, 20);

  run('ip', ['link', 'add', node.hostLink, 'type', 'veth', 'peer', 'name', NODE_UPLINK, 'netns', String(pid)]);
  run('ip', ['link', 'set', node.hostLink, 'master', BRIDGE, 'up']);
  const inside = [
    'link set lo up',
    `addr add ${node.ip}/${BACKBONE_PREFIX} dev ${NODE_UPLINK}`,
    `link set ${NODE_UPLINK} up`,
    `link add ${POD_BRIDGE} type bridge`,
    `addr add ${node.podGateway}/24 dev ${POD_BRIDGE}`,
    `link set ${POD_BRIDGE} up`,
    ...peers.filter((peer) => peer.index !== node.index).map((peer) => `route add ${peer.podSubnet} via ${peer.ip} dev ${NODE_UPLINK}`),
    // The node's own processes reach Services (kube-proxy translates them after this first route lookup).
    `route add ${SERVICE_RANGE} via ${HOST_IP} dev ${NODE_UPLINK}`,
  ];
  runInNode(pid, 'ip', ['-batch', '-'], inside.join('\n') + '\n');
  // The node routes between its pods and the backbone; this namespace's setting alone (the host's stays as it is).
  runInNode(pid, 'sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']);
  routePodsThrough(node);

  for (const fixed of KUBELET_FIXED_PATHS) {
    const own = path.join(dir, 'fixed', path.basename(fixed));
    mkdirSync(own, { recursive: true });
    mkdirSync(fixed, { recursive: true });
    runInNode(pid, 'mount', ['--bind', own, fixed]);
  }
  createCgroupRoot(node.cgroupRoot);
  return pid;
}
