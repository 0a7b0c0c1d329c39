/**
 * Taking a node away as a power cut would: its link to the backbone goes first, so that nothing it does afterwards
 * (a kernel closing its sockets, a container saying goodbye) reaches anyone; then every process of the node dies by
 * SIGKILL at once: its holder, containerd, the kubelet, kube-proxy, kube-router, the shims and every container. Its
 * namespaces, and with them its pods' interfaces and mounts, go with its last process. Nothing graceful happens, and
 * nothing tells the API server: the node stops answering, as a machine without power does.
 */
import { clusterNodes, isPoweredOff, markPoweredOff, type ClusterNode } from './cluster-nodes.js';
import { routeServicesThrough, serviceGateway } from './host-network.js';
import { inCgroupRoot } from './node-cgroups.js';
import { alive, clusterProcessNaming, killUntilNone, netnsOf, processIds } from './host-processes.js';
import { holderPidOf } from './node-namespace.js';
import { attempt } from './run-command.js';

/** Every process of the node: in its network namespace, in its cgroup root, or inside a node and naming its folder. */
function nodeProcessIds(node: ClusterNode): number[] {
  const holder = holderPidOf(node.dir);
  const netns = holder === undefined ? undefined : netnsOf(holder);
  return processIds().filter((pid) => pid !== process.pid && alive(pid) &&
    ((netns !== undefined && netnsOf(pid) === netns) || inCgroupRoot(pid, node.cgroupRoot) || clusterProcessNaming(pid, node.dir)));
}

/** Cuts `node` off and kills everything of it, without a word to anyone. */
export async function powerOff(node: ClusterNode): Promise<void> {
  // Deleting the host's end of the link deletes the node's end too.
  attempt('ip', ['link', 'del', node.hostLink]);
  await killUntilNone(`every process of ${node.name} to be gone`, () => nodeProcessIds(node));
}

/**
 * The power cut a test asks for: node `index` of the running cluster in `clusterDir` goes, as powerOff says. If the
 * host's way into Services went through it, it moves to a node still running, as a load balancer's health check
 * would take a dead node out.
 */
export async function powerCut(clusterDir: string, index: number): Promise<ClusterNode> {
  const nodes = clusterNodes(clusterDir);
  const node = nodes.find((candidate) => candidate.index === index);
  if (!node) throw new Error(`the test cluster has no node ${index} (it has ${nodes.map((n) => n.index).join(', ') || 'none'})`);
  if (isPoweredOff(node)) throw new Error(`${node.name} is powered off already`);
  await powerOff(node);
  markPoweredOff(node);
  if (serviceGateway() === node.ip) {
    const survivor = nodes.find((candidate) => !isPoweredOff(candidate));
    if (survivor) routeServicesThrough(survivor);
  }
  return node;
}
