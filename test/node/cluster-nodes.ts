/**
 * Which nodes a test cluster has, recorded in its folder when it comes up (nodes.json: their numbers; everything else
 * follows from node-layout.ts), so that teardown, tests and a power cut find them from any process.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { nodeLayout, type NodeLayout } from './node-layout.js';

export interface ClusterNode extends NodeLayout {
  /** The node's folder: its containerd, kubelet, logs and its holder's pid. */
  dir: string;
}

const NODES_FILE = 'nodes.json';
const POWERED_OFF = 'powered-off';

export function nodeDirOf(clusterDir: string, node: NodeLayout): string {
  return path.join(clusterDir, node.name);
}

export function recordNodes(clusterDir: string, nodes: NodeLayout[]): void {
  writeFileSync(path.join(clusterDir, NODES_FILE), JSON.stringify(nodes.map((node) => node.index)));
}

/** The cluster's nodes, in order; none when it has no record (it never came up that far). */
export function clusterNodes(clusterDir: string): ClusterNode[] {
  let indexes: number[];
  try {
    indexes = JSON.parse(readFileSync(path.join(clusterDir, NODES_FILE), 'utf8')) as number[];
  } catch {
    return [];
  }
  return indexes.map((index) => {
    const layout = nodeLayout(index);
    return { ...layout, dir: nodeDirOf(clusterDir, layout) };
  });
}

export function markPoweredOff(node: ClusterNode): void {
  writeFileSync(path.join(node.dir, POWERED_OFF), new Date().toISOString());
}

export function isPoweredOff(node: ClusterNode): boolean {
  return existsSync(path.join(node.dir, POWERED_OFF));
}
