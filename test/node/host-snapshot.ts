/**
 * What the test cluster may change on the host, as text: interfaces and addresses, routes of every table, routing
 * rules, forwarding, the whole nftables ruleset (iptables-nft included), ipsets, mounts, network namespaces, the fixed
 * paths containerd, CNI and the kubelet use and the files every node leaves in them, the nodes' and pods' cgroups, and
 * processes of the cluster. Taken before `up` and after `down`, the two must be equal.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ensureBinaries } from '../control-plane/binaries.js';
import { testclusterDir } from '../control-plane/testcluster-state.js';
import { FIXED_PATHS, SHARED_FOLDERS } from './host-leftovers.js';
import { alive, clusterProcessNaming, processIds } from './host-processes.js';
import { run } from './run-command.js';

const FORWARDING = ['net/ipv4/ip_forward', 'net/ipv4/conf/all/forwarding', 'net/ipv4/conf/default/forwarding'];

function listing(folder: string): string[] {
  return existsSync(folder) ? readdirSync(folder).map((entry) => path.join(folder, entry)) : [];
}

export function hostSnapshot(): Record<string, string> {
  const safe = (command: string, args: string[]) => {
    try {
      return run(command, args);
    } catch (error) {
      return `(failed: ${(error as Error).message})`;
    }
  };
  return {
    links: safe('ip', ['-o', 'link', 'show']).replace(/\s+link\/\S+ \S+ brd \S+/g, ''),
    addresses: safe('ip', ['-o', 'addr', 'show']),
    routes: safe('ip', ['route', 'show', 'table', 'all']),
    rules: safe('ip', ['rule', 'show']),
    forwarding: FORWARDING.map((key) => `${key} = ${readFileSync(`/proc/sys/${key}`, 'utf8').trim()}`).join('\n'),
    nftables: safe('nft', ['list', 'ruleset']),
    ipsets: safe('ipset', ['list', '-n']),
    // Mount ids and the order of identical entries aside, as a sorted list of mount points with their types.
    mounts: readFileSync('/proc/mounts', 'utf8').split('\n').map((line) => line.split(' ').slice(0, 3).join(' ')).sort().join('\n'),
    netns: listing('/run/netns').join('\n'),
    paths: [...FIXED_PATHS, '/run/netns'].map((fixed) => `${fixed}: ${existsSync(fixed) ? 'present' : 'absent'}`).join('\n'),
    'files in shared paths': SHARED_FOLDERS.flatMap(listing).sort().join('\n'),
    cgroups: listing('/sys/fs/cgroup').flatMap((controller) => {
      try {
        return readdirSync(controller).filter((name) => /^(kubepods|gwc-node-)/.test(name)).map((name) => `${controller}/${name}`);
      } catch {
        return [];
      }
    }).join('\n'),
    'processes of the cluster': processIds()
      .filter((pid) => pid !== process.pid && alive(pid) && clusterProcessNaming(pid, testclusterDir, ensureBinaries().dir))
      .map((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').slice(0, 200))
      .join('\n'),
  };
}

/** The parts that differ, each with both versions; empty when the host is as it was. */
export function snapshotDifferences(before: Record<string, string>, after: Record<string, string>): string[] {
  return Object.keys(before)
    .filter((key) => before[key] !== after[key])
    .map((key) => `${key}:\n--- before\n${before[key]}\n--- after\n${after[key]}`);
}
