/**
 * The Secrets a cluster's pods read that the operator may generate: each is the one the spec names (checked), or else
 * one the operator creates once with random data and never changes. A new one is a row of CLUSTER_SECRETS.
 */
import { randomBytes } from 'node:crypto';
import { MIN_SECRET_LENGTH } from '../../runtime/config/settings.js';
import {
  childNames,
  GENERATED_API_KEY_KEY,
  GENERATED_SECRET_KEY,
  generatedApiKeySecret,
  generatedGatewayWorkerSecret,
  generatedSecret,
  type GatewayClusterObject,
} from '../builders/desired-children.js';
import { isConflict, isNotFound, type KubeClient, type KubeObject } from '../kube/kube-client.js';
import { collectionPath, objectPath, RESOURCE_TYPES } from '../kube/resource-paths.js';
import type { GatewayClusterSpec } from '../spec/gateway-cluster-spec.js';
import type { EventRecorder } from './event-recorder.js';
import type { Problem } from './problems.js';
import { readReference } from './references.js';

/** A Secret and the key in it that the pods read. */
export interface SecretKeyRef {
  name: string;
  key: string;
}

/** One Secret of a cluster, as a small description. */
export interface ClusterSecret {
  /** Whether the cluster needs it at all; always when unset. */
  needed?(spec: GatewayClusterSpec): boolean;
  /** Where the spec may name a Secret of the user's own instead (checked: it exists and its key holds a long enough value). */
  specRef?: { field: string; of(spec: GatewayClusterSpec): SecretKeyRef | undefined };
  /** The Secret made when the spec names none: its name and key, what it holds (said by an event), the object with fresh random data. */
  generated: { name(cluster: string): string; key: string; holds: string; make(cluster: GatewayClusterObject): KubeObject };
}

export const CLUSTER_SECRETS = {
  /** The shared secret of the internal handshake. */
  shared: {
    specRef: { field: 'spec.secretRef', of: (spec) => spec.secretRef },
    generated: {
      name: (cluster) => childNames(cluster).secret,
      key: GENERATED_SECRET_KEY,
      holds: 'a generated shared secret',
      make: (cluster) => generatedSecret(cluster, randomBytes(32).toString('hex')),
    },
  },
  /** The HTTP API's keys. */
  apiKey: {
    needed: (spec) => spec.api.enabled,
    specRef: { field: 'spec.api.keySecretRef', of: (spec) => spec.api.keySecretRef },
    generated: {
      name: (cluster) => childNames(cluster).apiKeySecret,
      key: GENERATED_API_KEY_KEY,
      holds: 'a generated API key',
      make: (cluster) => generatedApiKeySecret(cluster, randomBytes(24).toString('base64url')),
    },
  },
  /** GatewayClient's $secretKey, when GatewayWorker compatibility is on: never the shared secret. */
  gatewayWorker: {
    needed: (spec) => spec.gatewayWorkerCompat.enabled,
    specRef: { field: 'spec.gatewayWorkerCompat.secretRef', of: (spec) => spec.gatewayWorkerCompat.secretRef },
    generated: {
      name: (cluster) => childNames(cluster).gatewayWorkerSecret,
      key: GENERATED_SECRET_KEY,
      holds: 'a generated GatewayWorker compat secret',
      // Hex: GatewayClient writes its secret into JSON unescaped.
      make: (cluster) => generatedGatewayWorkerSecret(cluster, randomBytes(24).toString('hex')),
    },
  },
} satisfies Record<string, ClusterSecret>;

export type SecretId = keyof typeof CLUSTER_SECRETS;

/** The Secret and key in use for each row of CLUSTER_SECRETS; a row the spec does not need is absent. */
export type SecretsInUse = Partial<Record<SecretId, SecretKeyRef>>;

export interface SecretsDeps {
  client: KubeClient;
  events: EventRecorder;
}

/**
 * The cluster's Secrets: the spec's own checked, and the generated ones made where missing unless `mayCreate` is
 * false (a paused or refused cluster changes nothing).
 */
export async function ensureSecrets(deps: SecretsDeps, cluster: GatewayClusterObject, mayCreate: boolean): Promise<{ inUse: SecretsInUse; problems: Problem[] }> {
  const inUse: SecretsInUse = {};
  const problems: Problem[] = [];
  for (const [id, secret] of Object.entries(CLUSTER_SECRETS) as Array<[SecretId, ClusterSecret]>) {
    if (secret.needed && !secret.needed(cluster.spec)) continue;
    const { specRef } = secret;
    const ref = specRef?.of(cluster.spec);
    if (specRef && ref) {
      inUse[id] = ref;
      const problem = await checkSpecSecret(deps.client, cluster.metadata.namespace, ref, specRef.field);
      if (problem) problems.push(problem);
      continue;
    }
    inUse[id] = { name: secret.generated.name(cluster.metadata.name), key: secret.generated.key };
    if (mayCreate) await createOnce(deps, cluster, secret.generated);
  }
  return { inUse, problems };
}

async function checkSpecSecret(client: KubeClient, namespace: string, { name, key }: SecretKeyRef, field: string): Promise<Problem | undefined> {
  const found = await readReference(client, namespace, { kind: 'Secret', name, field, keys: [key], keyField: `${field}.key` });
  if ('problem' in found) return found.problem;
  if (Buffer.from(found.data[key]!, 'base64').toString('utf8').trim().length >= MIN_SECRET_LENGTH) return undefined;
  return { reason: 'SecretTooShort', message: `Secret ${name} key ${key} is shorter than ${MIN_SECRET_LENGTH} bytes` };
}

/** Read by name, not watched: the operator may not list or watch Secrets (see the chart's RBAC). */
async function createOnce(deps: SecretsDeps, cluster: GatewayClusterObject, generated: ClusterSecret['generated']): Promise<void> {
  const namespace = cluster.metadata.namespace;
  const name = generated.name(cluster.metadata.name);
  try {
    await deps.client.get(objectPath(RESOURCE_TYPES.Secret, namespace, name));
    return;
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  try {
    await deps.client.create(collectionPath(RESOURCE_TYPES.Secret, namespace), generated.make(cluster));
    await deps.events.record(cluster, 'Normal', 'Created', `created Secret ${name} with ${generated.holds}`);
  } catch (error) {
    if (!isConflict(error)) throw error; // it exists: our cache is behind
  }
}
