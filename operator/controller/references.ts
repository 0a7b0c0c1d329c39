/**
 * Objects the spec names for the pods to mount: the handler ConfigMap and the TLS Secrets here, the Secrets the spec
 * names instead of generated ones in secrets.ts. Pods mounting a missing object, or a key it lacks, would wait in
 * ContainerCreating without a word, so the cluster says so in its Degraded condition instead.
 */
import { tlsSecretKeys } from '../builders/tls.js';
import { isNotFound, type KubeClient } from '../kube/kube-client.js';
import { objectPath, RESOURCE_TYPES } from '../kube/resource-paths.js';
import type { GatewayClusterSpec } from '../spec/gateway-cluster-spec.js';
import type { Problem, ReferencedKind } from './problems.js';

export interface Reference {
  kind: ReferencedKind;
  name: string;
  /** The spec field naming the object. */
  field: string;
  /** The keys the pods read. */
  keys: string[];
  /** The spec field naming the one key, when the spec chose it rather than the pods fixing it. */
  keyField?: string;
}

/** The object's data when it exists and holds every key; otherwise what is wrong, naming the spec field. */
export async function readReference(client: KubeClient, namespace: string, ref: Reference): Promise<{ data: Record<string, string> } | { problem: Problem }> {
  const { kind, name, field } = ref;
  let data: Record<string, string>;
  try {
    data = ((await client.get(objectPath(RESOURCE_TYPES[kind], namespace, name))).data ?? {}) as Record<string, string>;
  } catch (error) {
    if (!isNotFound(error)) throw error;
    return { problem: { reason: `${kind}NotFound`, message: `${kind} ${name} (${field}) not found` } };
  }
  const missing = ref.keys.filter((key) => data[key] === undefined);
  if (missing.length === 0) return { data };
  const message = ref.keyField ? `${kind} ${name} has no key ${missing.join(', ')} (${ref.keyField})` : `${kind} ${name} (${field}) has no ${missing.join(', ')}`;
  return { problem: { reason: `${kind}KeyMissing`, message } };
}

/** The handler ConfigMap and the TLS Secrets the spec names, in that order. */
export function specReferences(spec: GatewayClusterSpec): Reference[] {
  const handler = spec.worker.handler.configMap;
  const field = 'spec.worker.handler.configMap';
  return [
    ...(handler ? [{ kind: 'ConfigMap' as const, name: handler.name, field, keys: [handler.key], keyField: `${field}.key` }] : []),
    ...tlsSecretKeys(spec).map((secret) => ({ kind: 'Secret' as const, ...secret })),
  ];
}

/** What is wrong with the objects the spec names; empty when each exists with its keys. */
export async function referenceProblems(client: KubeClient, namespace: string, spec: GatewayClusterSpec): Promise<Problem[]> {
  const problems: Problem[] = [];
  for (const ref of specReferences(spec)) {
    const found = await readReference(client, namespace, ref);
    if ('problem' in found) problems.push(found.problem);
  }
  return problems;
}
