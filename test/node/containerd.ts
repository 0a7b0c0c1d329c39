/**
 * containerd for a test node, from Debian, inside the node's namespaces, with its root, state, socket and runc state
 * under the node's folder and its pods' network namespaces under its state (not /run/netns, which the host shares).
 * The CRI plugin gets the node's CNI configuration (its pod bridge and range, no gateway masquerading, no portmap)
 * and, because this machine's root lacks CAP_SYS_RESOURCE, restrict_oom_score_adj (runc cannot lower oom_score_adj
 * here).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BinaryProcess } from '../control-plane/binary-process.js';
import { waitFor } from '../harness/wait.js';
import { inNode } from './node-namespace.js';
import { POD_BRIDGE, type NodeLayout } from './node-layout.js';
import { run, runAsync } from './run-command.js';

export const CNI_PLUGIN_DIR = '/usr/lib/cni';
export const PAUSE_IMAGE = 'localhost/gwc-node/pause:1';
/** containerd's namespace for Kubernetes. */
const NAMESPACE = 'k8s.io';

export interface Containerd {
  socket: string;
  process: BinaryProcess;
  /** Imports an image archive (docker-archive) and tags it with every name in `names`. */
  importImage(archive: string, names: string[]): Promise<void>;
  stop(): Promise<void>;
}

/** The socket of the containerd of the node whose folder is `dir`. */
export function containerdSocket(dir: string): string {
  return path.join(dir, 'containerd', 'containerd.sock');
}

/** Where the containerd of the node whose folder is `dir` keeps its images. */
export function containerdRoot(dir: string): string {
  return path.join(dir, 'containerd', 'root');
}

export async function startContainerd(node: NodeLayout, nodeDir: string, holderPid: number, logDir: string): Promise<Containerd> {
  const dir = path.join(nodeDir, 'containerd');
  const socket = containerdSocket(nodeDir);
  const cniConfDir = path.join(dir, 'cni', 'net.d');
  mkdirSync(cniConfDir, { recursive: true });
  writeFileSync(path.join(cniConfDir, '10-gwc-node.conflist'), JSON.stringify(cniConfig(node, path.join(dir, 'cni', 'ipam')), null, 2));
  const config = path.join(dir, 'containerd.toml');
  writeFileSync(config, containerdConfig(dir, socket, cniConfDir));
  const process = new BinaryProcess('containerd', ...inNode(holderPid, '/usr/bin/containerd', ['--config', config]), path.join(logDir, 'containerd.log'));
  const ctrArgs = (...args: string[]) => ['--address', socket, '--namespace', NAMESPACE, ...args];
  await waitFor(`containerd of ${node.name} to answer`, () => {
    process.assertRunning();
    try {
      run('ctr', ctrArgs('version'));
      return true;
    } catch {
      return false;
    }
  }, 30_000, 100);
  return {
    socket,
    process,
    async importImage(archive, names) {
      const imported = await runAsync('ctr', ctrArgs('images', 'import', '--no-unpack=false', archive));
      const source = /unpacking (\S+) /.exec(imported)?.[1] ?? /^(\S+)\s/m.exec(await runAsync('ctr', ctrArgs('images', 'list', '-q')))?.[1];
      if (!source) throw new Error(`no image name in the output of ctr images import ${archive}: ${imported}`);
      for (const name of names) if (name !== source) await runAsync('ctr', ctrArgs('images', 'tag', '--force', source, name));
    },
    stop: () => process.stop(10_000),
  };
}

function cniConfig(node: NodeLayout, ipamDir: string) {
  return {
    cniVersion: '1.0.0',
    // Also the prefix of the files CNI keeps in /var/lib/cni/results, which every node shares.
    name: node.name,
    plugins: [
      {
        type: 'bridge',
        bridge: POD_BRIDGE,
        // isGateway would turn on ip_forward; the node's namespace has its address on the bridge and forwards already.
        isGateway: false,
        ipMasq: false,
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          dataDir: ipamDir,
          ranges: [[{ subnet: node.podSubnet, rangeStart: node.podRangeStart, gateway: node.podGateway }]],
          routes: [{ dst: '0.0.0.0/0', gw: node.podGateway }],
        },
      },
    ],
  };
}

function containerdConfig(dir: string, socket: string, cniConfDir: string): string {
  return `version = 2
root = "${dir}/root"
state = "${dir}/state"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]

[grpc]
  address = "${socket}"
[ttrpc]
  address = "${socket}.ttrpc"

[plugins]
  [plugins."io.containerd.internal.v1.opt"]
    path = "${dir}/opt"
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "${PAUSE_IMAGE}"
    enable_unprivileged_ports = true
    enable_unprivileged_icmp = true
    restrict_oom_score_adj = true
    netns_mounts_under_state_dir = true
    [plugins."io.containerd.grpc.v1.cri".containerd]
      snapshotter = "overlayfs"
      default_runtime_name = "runc"
      discard_unpacked_layers = false
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
          SystemdCgroup = false
          BinaryName = "/usr/sbin/runc"
          Root = "${dir}/runc"
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "${CNI_PLUGIN_DIR}"
      conf_dir = "${cniConfDir}"
      max_conf_num = 1
`;
}
