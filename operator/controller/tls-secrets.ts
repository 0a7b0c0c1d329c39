import { isNotFound, type KubeClient } from '../kube/kube-client.js';
import { objectPath, RESOURCE_TYPES } from '../kube/resource-paths.js';
import type { GatewayClusterSpec } from '../spec/gateway-cluster-spec.js';

/**
 * What is wrong with the TLS Secrets the spec names: missing, or without a key the pods read. Pods mounting a missing
 * Secret would wait in ContainerCreating without a word, so the cluster says so in its Degraded condition instead.
 */
export async function tlsSecretProblems(client: KubeClient, namespace: string, spec: GatewayClusterSpec): Promise<string[]> {
  const wanted: Array<[string | undefined, string, string[]]> = [
    [spec.gateway.tlsSecretName, 'spec.gateway.tlsSecretName', ['tls.crt', 'tls.key']],
    [spec.internalTls?.secretName, 'spec.internalTls.secretName', ['tls.crt', 'tls.key', 'ca.crt']],
  ];
  const problems: string[] = [];
  for (const [name, field, keys] of wanted) {
    if (name === undefined) continue;
    let data: Record<string, string>;
    try {
      data = ((await client.get(objectPath(RESOURCE_TYPES.Secret, namespace, name))).data ?? {}) as Record<string, string>;
    } catch (error) {
      if (!isNotFound(error)) throw error;
      problems.push(`Secret ${name} (${field}) not found`);
      continue;
    }
    const missing = keys.filter((key) => data[key] === undefined);
    if (missing.length > 0) problems.push(`Secret ${name} (${field}) has no ${missing.join(', ')}`);
  }
  return problems;
}
