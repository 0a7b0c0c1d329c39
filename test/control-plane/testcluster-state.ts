/** Where `npm run testcluster` keeps the running test node, and how to find it: one per machine. */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

export const testclusterDir = path.join(process.env.GWC_CACHE_DIR ?? path.join(homedir(), '.cache/gateway-cluster'), 'testcluster');
export const pidFile = path.join(testclusterDir, 'daemon.pid');
export const readyFile = path.join(testclusterDir, 'ready');
/** The node itself (test/node/test-node.ts) lives here, its control plane under control-plane/. */
export const nodeDir = path.join(testclusterDir, 'node');
export const nodeControlPlaneDir = path.join(nodeDir, 'control-plane');

export function runningPid(): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8'));
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

/** The node's kubeconfig when one is up and ready. */
export function readyKubeconfig(): string | undefined {
  return runningPid() !== undefined && existsSync(readyFile) ? readFileSync(readyFile, 'utf8').trim() : undefined;
}
