import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * In-cluster config for a process that cannot see /var/run/secrets (part of the test-only process kubelet): client
 * libraries read that fixed path, which only exists inside a real container, but they read KUBECONFIG first. So
 * when the pod mounts its service-account volume, a kubeconfig naming the same token, CA and API server is written
 * beside that volume's folder, and KUBECONFIG points at it. Returns the env to add, or nothing.
 */
export function inClusterConfigEnv(rewrite: (value: string) => string, env: Record<string, string>): Record<string, string> {
  const dir = rewrite(SERVICE_ACCOUNT_DIR);
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (dir === SERVICE_ACCOUNT_DIR || !host || !port || env.KUBECONFIG || !existsSync(path.join(dir, 'token'))) return {};
  const file = `${dir}.kubeconfig`;
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  writeFileSync(file, JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'in-cluster', cluster: { server, 'certificate-authority': path.join(dir, 'ca.crt') } }],
    users: [{ name: 'service-account', user: { 'token-file': path.join(dir, 'token') } }],
    contexts: [{ name: 'in-cluster', context: { cluster: 'in-cluster', user: 'service-account' } }],
    'current-context': 'in-cluster',
  }));
  return { KUBECONFIG: file };
}
