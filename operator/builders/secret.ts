import { childMetadata, type GatewayClusterObject, type KubeObject } from './cluster-object.js';
import { instanceLabels, MANAGED_BY } from './labels.js';
import { childNames } from './names.js';

export const GENERATED_SECRET_KEY = 'secret';
export const GENERATED_API_KEY_KEY = 'keys';

/**
 * The shared-secret Secret made when the spec names none. Unlike the other children it is created once and never
 * applied again, so `value` (random, chosen by the caller) survives every later reconcile.
 */
export function generatedSecret(cluster: GatewayClusterObject, value: string): KubeObject {
  const name = cluster.metadata.name;
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: childMetadata(cluster, childNames(name).secret, { ...instanceLabels(name), 'app.kubernetes.io/managed-by': MANAGED_BY }),
    type: 'Opaque',
    data: { [GENERATED_SECRET_KEY]: Buffer.from(value).toString('base64') },
  };
}

/** The HTTP API's key Secret made when spec.api names none: created once, like the shared secret. */
export function generatedApiKeySecret(cluster: GatewayClusterObject, key: string): KubeObject {
  const name = cluster.metadata.name;
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: childMetadata(cluster, childNames(name).apiKeySecret, { ...instanceLabels(name), 'app.kubernetes.io/managed-by': MANAGED_BY }),
    type: 'Opaque',
    data: { [GENERATED_API_KEY_KEY]: Buffer.from(key + '\n').toString('base64') },
  };
}
