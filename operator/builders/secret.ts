import { childMetadata, type GatewayClusterObject, type KubeObject } from './cluster-object.js';
import { instanceLabels, MANAGED_BY } from './labels.js';
import { childNames } from './names.js';

export const GENERATED_SECRET_KEY = 'secret';

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
