/**
 * What the nodes may leave on the host beyond the cluster's folder, and how it is removed: processes, mounts, the
 * nodes' cgroups, and the few fixed paths that containerd, CNI and the kubelet use whatever they are told (and the
 * files in them that a power cut leaves: CNI results, shim sockets). Paths and entries that existed before the
 * cluster came up are recorded then, and kept. The nodes' network namespaces hold their iptables chains, nftables
 * tables and ipsets, which go with them; those of a node that ran on the host itself (before the nodes had
 * namespaces) are removed too.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { alive, clusterProcessNaming, killUntilNone, processIds } from './host-processes.js';
import { removeCgroupRoot } from './node-cgroups.js';
import { clusterLayout, MAX_NODES } from './node-layout.js';
import { attempt, run } from './run-command.js';

/** Fixed paths outside the cluster's folder that its parts create. */
export const FIXED_PATHS = ['/run/containerd', '/var/log/containers', '/var/log/pods', '/var/lib/cni', '/etc/cni', '/var/lib/kubelet'];
/** Folders in those where every node leaves files of its own, each named apart (by node or by a hash). */
export const SHARED_FOLDERS = ['/run/containerd/s', '/var/lib/cni/results'];
const RECORD = 'preexisting.json';

export function recordPreexisting(dir: string): void {
  const record: Preexisting = {
    paths: FIXED_PATHS.filter((p) => existsSync(p)),
    runNetns: existsSync('/run/netns'),
    netns: existsSync('/run/netns') ? readdirSync('/run/netns') : [],
    chains: kubeChains().map(([tool, table, chain]) => `${tool} ${table} ${chain}`),
    nftTables: nftTables(),
    shared: sharedEntries(),
  };
  writeFileSync(path.join(dir, RECORD), JSON.stringify(record));
}

interface Preexisting {
  paths: string[];
  runNetns: boolean;
  netns: string[];
  /** `tool table chain` of KUBE-* chains that were there before (a host that is a Kubernetes node itself). */
  chains: string[];
  /** `family name` of every nftables table there was (iptables-nft makes its tables on first use). */
  nftTables: string[];
  /** The entries of SHARED_FOLDERS. */
  shared: string[];
}

function sharedEntries(): string[] {
  return SHARED_FOLDERS.flatMap((folder) => (existsSync(folder) ? readdirSync(folder).map((entry) => path.join(folder, entry)) : []));
}

function readPreexisting(dir: string): Preexisting {
  try {
    return JSON.parse(readFileSync(path.join(dir, RECORD), 'utf8')) as Preexisting;
  } catch {
    // No record (the node never came up far): keep every fixed path that is there.
    return { paths: FIXED_PATHS.filter((p) => existsSync(p)), runNetns: true, netns: existsSync('/run/netns') ? readdirSync('/run/netns') : [], chains: [], nftTables: nftTables(), shared: sharedEntries() };
  }
}

/**
 * Kills (SIGKILL) every process of the cluster but this one, and waits until they are gone, so none changes the host
 * after the leftovers are removed: those naming its folder that run inside a node or from `programsDir` (the control
 * plane), CNI plugins (one can outlive containerd) and those in a pod's cgroup (a container whose shim is gone keeps
 * running).
 */
export async function killNodeProcesses(dir: string, cniPluginDir: string, programsDir: string): Promise<void> {
  const podCgroup = /^\d+:[^:]*:\/(kubepods|gwc-node-\d+)(\/|$)/m;
  await killUntilNone('the cluster\'s processes to be gone', () => processIds().filter((pid) => {
    if (pid === process.pid || !alive(pid)) return false;
    try {
      return clusterProcessNaming(pid, dir, programsDir) || readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith(`${cniPluginDir}/`) ||
        podCgroup.test(readFileSync(`/proc/${pid}/cgroup`, 'utf8'));
    } catch {
      return false;
    }
  }));
}

/** Unmounts everything mounted under `prefix`, deepest first. */
export function unmountUnder(prefix: string): void {
  const mounts = readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[1]?.replace(/\\040/g, ' '))
    .filter((mount): mount is string => mount !== undefined && (mount === prefix || mount.startsWith(`${prefix}/`)))
    .sort((a, b) => b.length - a.length);
  for (const mount of mounts) attempt('umount', ['-l', mount]);
}

export function removeLeftovers(dir: string): void {
  const before = readPreexisting(dir);
  // Network namespaces containerd made for pods (cni-<uuid>), then the shared /run/netns mount if it is new.
  if (existsSync('/run/netns')) {
    for (const name of readdirSync('/run/netns')) {
      if (before.netns.includes(name)) continue;
      attempt('umount', ['-l', `/run/netns/${name}`]);
      rmSync(`/run/netns/${name}`, { force: true });
    }
    if (!before.runNetns) {
      unmountUnder('/run/netns');
      rmSync('/run/netns', { recursive: true, force: true });
    }
  }
  for (const entry of sharedEntries()) if (!before.shared.includes(entry)) rmSync(entry, { recursive: true, force: true });
  for (const fixed of FIXED_PATHS) {
    if (before.paths.includes(fixed)) continue;
    unmountUnder(fixed);
    rmSync(fixed, { recursive: true, force: true });
  }
  removeKubeletChains(new Set(before.chains));
  for (const family of ['ip', 'ip6']) attempt('nft', ['delete', 'table', family, 'kube-proxy']);
  // Tables iptables-nft made for the kubelet's chains, empty now.
  for (const table of nftTables()) {
    if (!before.nftTables.includes(table) && /^ip6? (filter|nat|mangle)$/.test(table)) attempt('nft', ['delete', 'table', ...table.split(' ')]);
  }
  for (const root of ['/kubepods', '/kubepods.slice', ...clusterLayout(MAX_NODES).map((node) => node.cgroupRoot)]) removeCgroupRoot(root);
}

function nftTables(): string[] {
  try {
    return run('nft', ['list', 'tables']).split('\n').filter(Boolean).map((line) => line.replace(/^table /, ''));
  } catch {
    return [];
  }
}

type Chain = [tool: string, table: string, chain: string];

/** KUBE-* chains in iptables and ip6tables, and the rules of other chains that jump to them. */
function kubeChains(): Chain[] {
  return iptablesState().chains;
}

function iptablesState(): { chains: Chain[]; jumps: Array<[tool: string, table: string, rule: string[]]> } {
  const chains: Chain[] = [];
  const jumps: Array<[string, string, string[]]> = [];
  for (const tool of ['iptables', 'ip6tables']) {
    let saved: string;
    try {
      saved = run(`${tool}-save`, []);
    } catch {
      continue;
    }
    let table = '';
    for (const line of saved.split('\n')) {
      if (line.startsWith('*')) table = line.slice(1);
      else if (line.startsWith(':KUBE-')) chains.push([tool, table, line.slice(1).split(' ')[0]!]);
      else if (line.startsWith('-A ') && / -j KUBE-/.test(line) && !line.startsWith('-A KUBE-')) jumps.push([tool, table, line.slice(3).split(' ')]);
    }
  }
  return { chains, jumps };
}

/** The kubelet's chains (KUBE-FIREWALL, canaries, the hint) and the jumps to them, but those that were there before. */
function removeKubeletChains(keep: Set<string>): void {
  const { chains, jumps } = iptablesState();
  const ours = chains.filter(([tool, table, chain]) => !keep.has(`${tool} ${table} ${chain}`));
  const oursByName = new Set(ours.map(([tool, table, chain]) => `${tool} ${table} ${chain}`));
  for (const [tool, table, rule] of jumps) {
    const target = rule[rule.indexOf('-j') + 1];
    if (oursByName.has(`${tool} ${table} ${target}`)) attempt(tool, ['-t', table, '-D', ...rule]);
  }
  for (const [tool, table, chain] of ours) attempt(tool, ['-t', table, '-F', chain]);
  for (const [tool, table, chain] of ours) attempt(tool, ['-t', table, '-X', chain]);
}
