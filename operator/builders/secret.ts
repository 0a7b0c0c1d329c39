import { childMetadata, type GatewayClusterObject, type KubeObject } from './cluster-object.js';
import { instanceLabels, MANAGED_BY } from './labels.js';
import { childNames } from './names.js';

export const GENERATED_SECRET_KEY = 'secret';
export const GENERATED_API_KEY_KEY = 'keys';

/**
 * A Secret made when the spec names none. Unlike the other children it is created once and never applied again,
 * so its value (random, chosen by the caller) survives every later reconcile.
 */
function generated(cluster: GatewayClusterObject, name: string, key: string, value: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: childMetadata(cluster, name, { ...instanceLabels(cluster.metadata.name), 'app.kubernetes.io/managed-by': MANAGED_BY }),
    type: 'Opaque',
    data: { [key]: Buffer.from(value).toString('base64') },
  };
}

/** The shared secret. */
export function generatedSecret(cluster: GatewayClusterObject, value: string): KubeObject {
  return generated(cluster, childNames(cluster.metadata.name).secret, GENERATED_SECRET_KEY, value);
}

/** GatewayWorker compatibility's secret (GatewayClient's $secretKey): not the shared secret, which it must never expose. */
export function generatedGatewayWorkerSecret(cluster: GatewayClusterObject, value: string): KubeObject {
  return generated(cluster, childNames(cluster.metadata.name).gatewayWorkerSecret, GENERATED_SECRET_KEY, value);
}

/** The HTTP API's keys: a file of one key a line. */
export function generatedApiKeySecret(cluster: GatewayClusterObject, key: string): KubeObject {
  return generated(cluster, childNames(cluster.metadata.name).apiKeySecret, GENERATED_API_KEY_KEY, `${key}\n`);
}
