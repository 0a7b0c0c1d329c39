/**
 * What the node may change on the host, as text: interfaces and addresses, routes of every table, routing rules,
 * the whole nftables ruleset (iptables-nft included), mounts, network namespaces, the fixed paths containerd, CNI
 * and the kubelet use, and cgroups named after pods. Taken before `up` and after `down`, the two must be equal.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { run } from './run-command.js';

const PATHS = ['/run/containerd', '/run/netns', '/var/log/containers', '/var/log/pods', '/var/lib/cni', '/etc/cni', '/var/lib/kubelet'];

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
    nftables: safe('nft', ['list', 'ruleset']),
    // Mount ids and the order of identical entries aside, as a sorted list of mount points with their types.
    mounts: readFileSync('/proc/mounts', 'utf8').split('\n').map((line) => line.split(' ').slice(0, 3).join(' ')).sort().join('\n'),
    paths: PATHS.map((path) => `${path}: ${existsSync(path) ? 'present' : 'absent'}`).join('\n'),
    cgroups: existsSync('/sys/fs/cgroup')
      ? readdirSync('/sys/fs/cgroup').flatMap((controller) => {
          try {
            return readdirSync(`/sys/fs/cgroup/${controller}`).filter((name) => name.startsWith('kubepods')).map((name) => `${controller}/${name}`);
          } catch {
            return [];
          }
        }).join('\n')
      : '',
  };
}

/** The parts that differ, each with both versions; empty when the host is as it was. */
export function snapshotDifferences(before: Record<string, string>, after: Record<string, string>): string[] {
  return Object.keys(before)
    .filter((key) => before[key] !== after[key])
    .map((key) => `${key}:\n--- before\n${before[key]}\n--- after\n${after[key]}`);
}
