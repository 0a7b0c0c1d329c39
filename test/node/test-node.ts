/**
 * A real single-node Kubernetes cluster for the tests, on this machine alone: the test control plane serving on
 * the node's bridge, kube-scheduler, containerd (Debian) with the CNI bridge plugin, the kubelet, kube-proxy in
 * nftables mode and CoreDNS, running the project's own image built with buildah. `startTestNode` brings it up
 * from nothing; `stopTestNode` removes every process, namespace, mount, rule and file it made.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_OPERAND_IMAGE } from '../../operator/operator-settings.js';
import type { BinaryProcess } from '../control-plane/binary-process.js';
import { ensureBinaries, repoRoot } from '../control-plane/binaries.js';
import { startControlPlane, type ControlPlane } from '../control-plane/control-plane.js';
import { APISERVER_KUBELET_CLIENT } from '../control-plane/pki.js';
import { waitFor } from '../harness/wait.js';
import { imageArchive, projectImage } from '../image/project-image.js';
import { clusterDnsManifests } from './cluster-dns.js';
import { PAUSE_IMAGE, startContainerd, CNI_PLUGIN_DIR, type Containerd } from './containerd.js';
import { hostNetworkDown, hostNetworkUp } from './host-network.js';
import { killNodeProcesses, recordPreexisting, removeLeftovers, unmountUnder } from './host-leftovers.js';
import { API_PORT, HOST_IP, KUBERNETES_SERVICE_IP, NODE_NAME, SERVICE_RANGE } from './node-layout.js';
import { NODE_USERS, startKubelet, startKubeProxy, startScheduler } from './node-components.js';
import { scratchImage } from './node-images.js';
import { run } from './run-command.js';

export interface TestNode {
  controlPlane: ControlPlane;
  kubeconfigPath: string;
  /** The names the project's image answers to on the node: what the spec and the chart default to. */
  images: string[];
  /** Host processes of the node, last started last. */
  processes: BinaryProcess[];
  containerd: Containerd;
  timings: Record<string, number>;
}

/** The chart's default operator image: the chart's appVersion, like the spec's default operand image. */
function chartImage(): string {
  const appVersion = /^appVersion:\s*"?([^"\s]+)"?/m.exec(readFileSync(path.join(repoRoot, 'charts/gateway-cluster/Chart.yaml'), 'utf8'))?.[1];
  return `ghcr.io/gatewaycluster/gateway-cluster:${appVersion}`;
}


const REQUIRED_TOOLS = ['/usr/bin/containerd', '/usr/sbin/runc', '/usr/sbin/nft', '/usr/sbin/conntrack', `${CNI_PLUGIN_DIR}/bridge`, `${CNI_PLUGIN_DIR}/host-local`];

export async function startTestNode(dir: string, log: (line: string) => void = () => {}): Promise<TestNode> {
  const missing = REQUIRED_TOOLS.filter((tool) => !existsSync(tool));
  if (missing.length > 0) throw new Error(`the test node needs ${missing.join(', ')}: run test/setup/install-deps.sh`);
  if (process.getuid?.() !== 0) throw new Error('the test node must run as root (it makes a bridge, mounts and containers)');
  const timings: Record<string, number> = {};
  const started = Date.now();
  const mark = (what: string) => {
    timings[what] = Date.now() - started;
    log(`${what} after ${timings[what]} ms`);
  };
  const binaries = ensureBinaries();
  const pause = scratchImage('pause', binaries.pause);
  const coredns = scratchImage('coredns', binaries.coredns);
  const project = projectImage();
  mark('binaries and images ready');

  // Whatever a run that was killed left behind goes first.
  await stopTestNode(dir);
  mkdirSync(dir, { recursive: true });
  const logDir = path.join(dir, 'logs');
  mkdirSync(logDir, { recursive: true });
  recordPreexisting(dir);
  hostNetworkUp();
  mark('network');

  const processes: BinaryProcess[] = [];
  let controlPlane: ControlPlane | undefined;
  try {
    const containerd = await startContainerd(path.join(dir, 'containerd'), logDir);
    processes.push(containerd.process);
    containerd.importImage(imageArchive(pause), [PAUSE_IMAGE]);
    containerd.importImage(imageArchive(coredns), [coredns]);
    const images = [DEFAULT_OPERAND_IMAGE, chartImage()];
    containerd.importImage(imageArchive(project), [project, ...images]);
    mark('containerd with images');

    controlPlane = await startControlPlane({
      dir: path.join(dir, 'control-plane'),
      log,
      node: { address: HOST_IP, port: API_PORT, serviceRange: SERVICE_RANGE, serviceIp: KUBERNETES_SERVICE_IP, users: NODE_USERS },
    });
    processes.push(startScheduler(binaries, controlPlane, logDir));
    const kubectl = (...args: string[]) => run(binaries.kubectl, ['--kubeconfig', controlPlane!.kubeconfigPath, ...args]);
    // The API server reaches kubelets (logs, exec, port-forward) with its client certificate.
    kubectl('create', 'clusterrolebinding', 'gwc-node:apiserver-kubelet', '--clusterrole=system:kubelet-api-admin', `--user=${APISERVER_KUBELET_CLIENT}`);
    mark('control plane');

    const kubelet = startKubelet(binaries, controlPlane, path.join(dir, 'kubelet'), logDir, containerd.socket);
    processes.push(kubelet);
    await waitFor('the node to be Ready', () => {
      kubelet.assertRunning();
      try {
        return kubectl('get', 'node', NODE_NAME, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}') === 'True';
      } catch {
        return false;
      }
    }, 60_000, 250);
    mark('node Ready');
    processes.push(startKubeProxy(binaries, controlPlane, path.join(dir, 'kube-proxy'), logDir));

    run(binaries.kubectl, ['--kubeconfig', controlPlane.kubeconfigPath, 'apply', '-f', '-'], JSON.stringify(clusterDnsManifests(coredns)));
    await waitFor('CoreDNS to be ready', () => {
      for (const proc of processes) proc.assertRunning();
      return kubectl('-n', 'kube-system', 'get', 'deployment', 'coredns', '-o', 'jsonpath={.status.readyReplicas}') === '1';
    }, 120_000, 250);
    mark('CoreDNS ready');
    return { controlPlane, kubeconfigPath: controlPlane.kubeconfigPath, images, processes, containerd, timings };
  } catch (error) {
    const tails = processes.map((proc) => `--- ${proc.name}\n${proc.tail(10)}`).join('\n');
    // The logs outlive the node, for whoever looks into why it did not come up.
    const kept = `${dir}-failed-logs`;
    rmSync(kept, { recursive: true, force: true });
    cpSync(logDir, kept, { recursive: true });
    if (controlPlane) cpSync(path.join(dir, 'control-plane', 'logs'), path.join(kept, 'control-plane'), { recursive: true });
    await stopProcesses(processes, controlPlane);
    await stopTestNode(dir);
    throw new Error(`${(error as Error).message} (logs in ${kept})\n${tails}`);
  }
}

async function stopProcesses(processes: BinaryProcess[], controlPlane: ControlPlane | undefined): Promise<void> {
  for (const proc of [...processes].reverse()) if (proc.name !== 'containerd') await proc.stop();
  await controlPlane?.stop();
}

/**
 * Takes the node down and leaves the machine as it was: pods stopped through the CRI (so CNI releases their
 * interfaces), every process of the node killed, its mounts, network namespaces, rules, tables, cgroups and files
 * removed. Safe to call when nothing is up.
 */
export async function stopTestNode(dir: string, node?: TestNode): Promise<void> {
  if (node) {
    const kubelet = node.processes.find((proc) => proc.name === 'kubelet');
    await kubelet?.stop();
    try {
      run(ensureBinaries().crictl, ['--runtime-endpoint', `unix://${node.containerd.socket}`, 'rmp', '--force', '--all']);
    } catch {
      // containerd already gone: the leftovers below go anyway
    }
    await stopProcesses(node.processes, node.controlPlane);
    await node.containerd.stop();
  }
  await killNodeProcesses(dir, CNI_PLUGIN_DIR);
  if (existsSync(dir)) {
    removeLeftovers(dir);
    unmountUnder(dir);
  }
  hostNetworkDown();
  rmSync(dir, { recursive: true, force: true });
}
