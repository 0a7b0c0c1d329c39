/**
 * A real Kubernetes cluster of one or more nodes for the tests, on this machine alone: the test control plane and
 * kube-scheduler on the host, serving on the backbone bridge; and each node in namespaces of its own (node-namespace.ts)
 * with containerd (Debian) and the CNI bridge plugin, the kubelet, kube-proxy in nftables mode and kube-router
 * enforcing NetworkPolicy; CoreDNS on top, and the project's own image, built with buildah, in every node.
 * `startTestNode` brings it up from nothing; `stopTestNode` removes every process, namespace, mount, rule and file it
 * made.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_OPERAND_IMAGE } from '../../operator/builders/container.js';
import type { BinaryProcess } from '../control-plane/binary-process.js';
import { ensureBinaries, repoRoot } from '../control-plane/binaries.js';
import { startControlPlane, type ControlPlane } from '../control-plane/control-plane.js';
import { APISERVER_KUBELET_CLIENT } from '../control-plane/pki.js';
import { waitFor } from '../harness/wait.js';
import { imageArchive, projectImage } from '../image/project-image.js';
import { clusterDnsManifests } from './cluster-dns.js';
import { clusterNodes, nodeDirOf, recordNodes, type ClusterNode } from './cluster-nodes.js';
import { containerdRoot, PAUSE_IMAGE, startContainerd, CNI_PLUGIN_DIR, type Containerd } from './containerd.js';
import { hostNetworkDown, hostNetworkUp, routeServicesThrough } from './host-network.js';
import { cloneSeed, ensureImageSeed, type ImageArchive } from './image-seed.js';
import { killNodeProcesses, recordPreexisting, removeLeftovers, unmountUnder } from './host-leftovers.js';
import { kubeRouterRbac, KUBE_ROUTER_HEALTH_PORT, startKubeRouter } from './network-policy-engine.js';
import { API_PORT, clusterLayout, HOST_IP, KUBERNETES_SERVICE_IP, NODE_MONITOR_GRACE_SECONDS, SERVICE_RANGE } from './node-layout.js';
import { nodeUsers, startKubelet, startKubeProxy, startScheduler } from './node-components.js';
import { createNodeNamespaces } from './node-namespace.js';
import { scratchImage } from './node-images.js';
import { powerOff } from './node-power.js';
import { run } from './run-command.js';

/** A node as the process that started it holds it. */
export interface RunningNode extends ClusterNode {
  holderPid: number;
  containerd: Containerd;
  /** Its kubelet, kube-proxy and kube-router (containerd is in `containerd`). */
  processes: BinaryProcess[];
}

export interface TestNode {
  controlPlane: ControlPlane;
  kubeconfigPath: string;
  /** The names the project's image answers to on the nodes: what the spec and the chart default to. */
  images: string[];
  /** kube-scheduler, on the host. */
  processes: BinaryProcess[];
  nodes: RunningNode[];
  timings: Record<string, number>;
}

export interface TestNodeOptions {
  /** How many nodes (1 by default): each its own zone. */
  nodes?: number;
  log?: (line: string) => void;
}

/** The chart's default operator image: the chart's appVersion, like the spec's default operand image. */
function chartImage(): string {
  const appVersion = /^appVersion:\s*"?([^"\s]+)"?/m.exec(readFileSync(path.join(repoRoot, 'charts/gateway-cluster/Chart.yaml'), 'utf8'))?.[1];
  return `ghcr.io/gatewaycluster/gateway-cluster:${appVersion}`;
}

const REQUIRED_TOOLS = ['/usr/bin/containerd', '/usr/sbin/runc', '/usr/sbin/nft', '/usr/sbin/conntrack', '/usr/sbin/ipset', '/usr/sbin/iptables',
  '/usr/bin/nsenter', '/usr/bin/unshare', `${CNI_PLUGIN_DIR}/bridge`, `${CNI_PLUGIN_DIR}/host-local`];

export async function startTestNode(dir: string, options: TestNodeOptions = {}): Promise<TestNode> {
  const log = options.log ?? (() => {});
  const missing = REQUIRED_TOOLS.filter((tool) => !existsSync(tool));
  if (missing.length > 0) throw new Error(`the test cluster needs ${missing.join(', ')}: run test/setup/install-deps.sh`);
  if (process.getuid?.() !== 0) throw new Error('the test cluster must run as root (it makes bridges, namespaces, mounts and containers)');
  const layouts = clusterLayout(options.nodes ?? 1);
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
  const images = [DEFAULT_OPERAND_IMAGE, chartImage()];
  const archives: ImageArchive[] = [[imageArchive(pause), [PAUSE_IMAGE]], [imageArchive(coredns), [coredns]], [imageArchive(project), [project, ...images]]];
  mark('binaries and images ready');

  // Whatever a run that was killed left behind goes first.
  await stopTestNode(dir);
  mkdirSync(dir, { recursive: true });
  recordPreexisting(dir);
  recordNodes(dir, layouts);
  hostNetworkUp();
  mark('network');

  const hostProcesses: BinaryProcess[] = [];
  const nodes: RunningNode[] = [];
  let controlPlane: ControlPlane | undefined;
  let controlPlaneStarting: Promise<ControlPlane> | undefined;
  try {
    controlPlaneStarting = startControlPlane({
      dir: path.join(dir, 'control-plane'),
      log,
      node: {
        address: HOST_IP,
        port: API_PORT,
        serviceRange: SERVICE_RANGE,
        serviceIp: KUBERNETES_SERVICE_IP,
        users: nodeUsers(layouts),
        nodeMonitorGraceSeconds: NODE_MONITOR_GRACE_SECONDS,
      },
    });
    const holders = new Map<number, number>();
    for (const layout of layouts) holders.set(layout.index, await createNodeNamespaces(layout, layouts, nodeDirOf(dir, layout), binaries.pause));
    mark('nodes\' namespaces');
    // The images are imported (once, if the cache has none for them) while the control plane starts.
    const seed = await ensureImageSeed(archives, layouts[0]!, holders.get(layouts[0]!.index)!);
    mark('images');
    for (const layout of layouts) {
      const nodeDir = nodeDirOf(dir, layout);
      const holderPid = holders.get(layout.index)!;
      mkdirSync(path.join(nodeDir, 'logs'), { recursive: true });
      cloneSeed(seed, containerdRoot(nodeDir));
      const containerd = await startContainerd(layout, nodeDir, holderPid, path.join(nodeDir, 'logs'));
      nodes.push({ ...layout, dir: nodeDir, holderPid, containerd, processes: [] });
    }
    mark('containerd with the images in every node');
    controlPlane = await controlPlaneStarting;
    mark('control plane');

    hostProcesses.push(startScheduler(binaries, controlPlane, path.join(dir, 'control-plane', 'logs')));
    const kubectl = (...args: string[]) => run(binaries.kubectl, ['--kubeconfig', controlPlane!.kubeconfigPath, ...args]);
    const apply = (manifests: object) => run(binaries.kubectl, ['--kubeconfig', controlPlane!.kubeconfigPath, 'apply', '-f', '-'], JSON.stringify(manifests));
    // The API server reaches kubelets (logs, exec, port-forward) with its client certificate.
    kubectl('create', 'clusterrolebinding', 'gwc-node:apiserver-kubelet', '--clusterrole=system:kubelet-api-admin', `--user=${APISERVER_KUBELET_CLIENT}`);
    apply(kubeRouterRbac());

    for (const node of nodes) node.processes.push(startKubelet(binaries, controlPlane, node, node.holderPid, node.dir, node.containerd.socket));
    routeServicesThrough(layouts[0]!);
    await waitFor('every node to be Ready', () => {
      for (const node of nodes) for (const proc of node.processes) proc.assertRunning();
      const ready = kubectl('get', 'nodes', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status} {end}');
      return nodes.every((node) => ready.includes(`${node.name}=True`));
    }, 60_000, 250);
    mark('nodes Ready');
    for (const node of nodes) {
      node.processes.push(startKubeProxy(binaries, controlPlane, node, node.holderPid, node.dir));
      node.processes.push(startKubeRouter(binaries, controlPlane, node, node.holderPid, node.dir));
    }

    apply(clusterDnsManifests(coredns, nodes.length));
    await waitFor('CoreDNS to be ready', () => {
      for (const proc of [...hostProcesses, ...nodes.flatMap((node) => node.processes)]) proc.assertRunning();
      const status = JSON.parse(kubectl('-n', 'kube-system', 'get', 'deployment', 'coredns', '-o', 'json')) as { spec: { replicas: number }; status: { readyReplicas?: number } };
      return status.status.readyReplicas === status.spec.replicas;
    }, 120_000, 250);
    mark('CoreDNS ready');
    await waitForKubeRouters(nodes);
    mark('kube-router ready on every node');
    return { controlPlane, kubeconfigPath: controlPlane.kubeconfigPath, images, processes: hostProcesses, nodes, timings };
  } catch (error) {
    const all = [...hostProcesses, ...nodes.flatMap((node) => [node.containerd.process, ...node.processes])];
    const tails = all.map((proc) => `--- ${proc.name}\n${proc.tail(10)}`).join('\n');
    // The logs outlive the cluster, for whoever looks into why it did not come up.
    const kept = `${dir}-failed-logs`;
    rmSync(kept, { recursive: true, force: true });
    for (const node of nodes) cpSync(path.join(node.dir, 'logs'), path.join(kept, node.name), { recursive: true });
    // A control plane still starting when a node failed has its logs kept too (and is killed with the rest).
    controlPlane ??= await controlPlaneStarting?.catch(() => undefined);
    if (controlPlane) cpSync(path.join(dir, 'control-plane', 'logs'), path.join(kept, 'control-plane'), { recursive: true });
    await stopTestNode(dir);
    throw new Error(`${(error as Error).message} (logs in ${kept})\n${tails}`);
  }
}

/** kube-router answers /healthz with 200 once its policy controller has synced. */
async function waitForKubeRouters(nodes: RunningNode[]): Promise<void> {
  await waitFor('kube-router to be healthy on every node', async () => {
    for (const node of nodes) for (const proc of node.processes) proc.assertRunning();
    const answers = await Promise.all(nodes.map((node) => fetch(`http://${node.ip}:${KUBE_ROUTER_HEALTH_PORT}/healthz`).then((r) => r.status, () => 0)));
    return answers.every((status) => status === 200);
  }, 60_000, 250);
}

/**
 * Takes the cluster down and leaves the machine as it was: every node powered off (nothing of a node needs to stop
 * gracefully when all of it goes: its namespaces take its pods' interfaces, mounts and rules with them), the control
 * plane and whatever else of the cluster killed (its state goes with its folder), and its cgroups, fixed paths,
 * routes, rules, tables and files removed. Safe to call when nothing is up, or when the process that started it is
 * gone.
 */
export async function stopTestNode(dir: string, log: (line: string) => void = () => {}): Promise<void> {
  const started = Date.now();
  const mark = (what: string) => log(`${what} after ${Date.now() - started} ms`);
  await Promise.all(clusterNodes(dir).map((node) => powerOff(node)));
  mark('nodes powered off');
  await killNodeProcesses(dir, CNI_PLUGIN_DIR, ensureBinaries().dir);
  mark('control plane killed');
  if (existsSync(dir)) {
    removeLeftovers(dir);
    unmountUnder(dir);
  }
  hostNetworkDown();
  rmSync(dir, { recursive: true, force: true });
  mark('host cleaned');
}
