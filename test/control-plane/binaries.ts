import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the pinned control-plane and node binaries live once built (build-binaries.sh). */
export interface Binaries {
  dir: string;
  etcd: string;
  kubeApiserver: string;
  kubeControllerManager: string;
  kubeScheduler: string;
  kubelet: string;
  kubeProxy: string;
  kubectl: string;
  helm: string;
  crictl: string;
  coredns: string;
  pause: string;
  kubeRouter: string;
}

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const buildScript = path.join(repoRoot, 'test/control-plane/build-binaries.sh');

let cached: Binaries | undefined;

/** Builds the binaries on first use (minutes when cold, instant when cached); the script prints progress on stderr. */
export function ensureBinaries(): Binaries {
  if (cached) return cached;
  const result = spawnSync('bash', [buildScript], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (result.status !== 0) throw new Error(`${buildScript} failed with exit code ${result.status}`);
  const [policyDir, nodeDir, dir] = result.stdout.trim().split('\n').slice(-3) as [string, string, string];
  const bin = (name: string) => path.join(dir, name);
  const nodeBin = (name: string) => path.join(nodeDir, name);
  cached = {
    dir,
    etcd: bin('etcd'),
    kubeApiserver: bin('kube-apiserver'),
    kubeControllerManager: bin('kube-controller-manager'),
    kubeScheduler: bin('kube-scheduler'),
    kubelet: bin('kubelet'),
    kubeProxy: bin('kube-proxy'),
    kubectl: bin('kubectl'),
    helm: bin('helm'),
    crictl: nodeBin('crictl'),
    coredns: nodeBin('coredns'),
    pause: nodeBin('pause'),
    kubeRouter: path.join(policyDir, 'kube-router'),
  };
  return cached;
}
