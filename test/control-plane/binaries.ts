import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the pinned control-plane binaries live once built (etcd, kube-apiserver, kube-controller-manager, kubectl, helm). */
export interface Binaries {
  dir: string;
  etcd: string;
  kubeApiserver: string;
  kubeControllerManager: string;
  kubectl: string;
  helm: string;
}

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const buildScript = path.join(repoRoot, 'test/control-plane/build-binaries.sh');

let cached: Binaries | undefined;

/** Builds the binaries on first use (minutes when cold, instant when cached); the script prints progress on stderr. */
export function ensureBinaries(): Binaries {
  if (cached) return cached;
  const result = spawnSync('bash', [buildScript], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (result.status !== 0) throw new Error(`${buildScript} failed with exit code ${result.status}`);
  const dir = result.stdout.trim().split('\n').at(-1)!;
  const bin = (name: string) => path.join(dir, name);
  cached = {
    dir,
    etcd: bin('etcd'),
    kubeApiserver: bin('kube-apiserver'),
    kubeControllerManager: bin('kube-controller-manager'),
    kubectl: bin('kubectl'),
    helm: bin('helm'),
  };
  return cached;
}
