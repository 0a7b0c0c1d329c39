/**
 * containerd for the test node, from Debian, with its root, state and socket under the node's folder. The CRI plugin
 * gets the node's CNI configuration (a bridge network, no gateway masquerading, no portmap) and, because this
 * machine's root lacks CAP_SYS_RESOURCE, restrict_oom_score_adj (runc cannot lower oom_score_adj here).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BinaryProcess } from '../control-plane/binary-process.js';
import { waitFor } from '../harness/wait.js';
import { BRIDGE, HOST_IP, POD_RANGE_START, POD_SUBNET } from './node-layout.js';
import { run } from './run-command.js';

export const CNI_PLUGIN_DIR = '/usr/lib/cni';
export const PAUSE_IMAGE = 'localhost/gwc-node/pause:1';
/** containerd's namespace for Kubernetes. */
const NAMESPACE = 'k8s.io';

export interface Containerd {
  socket: string;
  process: BinaryProcess;
  /** Imports an image archive (docker-archive) and tags it with every name in `names`. */
  importImage(archive: string, names: string[]): void;
  stop(): Promise<void>;
}

export async function startContainerd(dir: string, logDir: string): Promise<Containerd> {
  const socket = path.join(dir, 'containerd.sock');
  const cniConfDir = path.join(dir, 'cni', 'net.d');
  mkdirSync(cniConfDir, { recursive: true });
  writeFileSync(path.join(cniConfDir, '10-gwc-node.conflist'), JSON.stringify(cniConfig(path.join(dir, 'cni', 'ipam')), null, 2));
  const config = path.join(dir, 'containerd.toml');
  writeFileSync(config, containerdConfig(dir, socket, cniConfDir));
  const process = new BinaryProcess('containerd', '/usr/bin/containerd', ['--config', config], path.join(logDir, 'containerd.log'));
  const ctr = (...args: string[]) => run('ctr', ['--address', socket, '--namespace', NAMESPACE, ...args]);
  await waitFor('containerd to answer', () => {
    process.assertRunning();
    try {
      ctr('version');
      return true;
    } catch {
      return false;
    }
  }, 30_000, 100);
  return {
    socket,
    process,
    importImage(archive, names) {
      const imported = ctr('images', 'import', '--no-unpack=false', archive);
      const source = /unpacking (\S+) /.exec(imported)?.[1] ?? /^(\S+)\s/m.exec(ctr('images', 'list', '-q'))?.[1];
      if (!source) throw new Error(`no image name in the output of ctr images import ${archive}: ${imported}`);
      for (const name of names) if (name !== source) ctr('images', 'tag', '--force', source, name);
    },
    stop: () => process.stop(10_000),
  };
}

function cniConfig(ipamDir: string) {
  return {
    cniVersion: '1.0.0',
    name: 'gwc-node',
    plugins: [
      {
        type: 'bridge',
        bridge: BRIDGE,
        // isGateway would turn on the global ip_forward; the host keeps its address on the bridge instead.
        isGateway: false,
        ipMasq: false,
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          dataDir: ipamDir,
          ranges: [[{ subnet: POD_SUBNET, rangeStart: POD_RANGE_START, gateway: HOST_IP }]],
          routes: [{ dst: '0.0.0.0/0', gw: HOST_IP }],
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
    [plugins."io.containerd.grpc.v1.cri".containerd]
      snapshotter = "overlayfs"
      default_runtime_name = "runc"
      discard_unpacked_layers = false
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
          SystemdCgroup = false
          BinaryName = "/usr/sbin/runc"
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "${CNI_PLUGIN_DIR}"
      conf_dir = "${cniConfDir}"
      max_conf_num = 1
`;
}
