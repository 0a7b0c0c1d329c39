import type { GatewayClusterObject } from '../builders/desired-children.js';
import type { KubeObject } from '../kube/kube-client.js';
import { gatewayClusterSpec } from '../spec/gateway-cluster-spec.js';
import type { Problem } from './problems.js';

export const PAUSED_ANNOTATION = 'gatewaycluster.dev/paused';

/** The namespace and name in a work queue key, `namespace/name`. */
export function parseKey(key: string): { namespace: string; name: string } {
  const [namespace, name] = key.split('/') as [string, string];
  return { namespace, name };
}

/** A cluster whose spec parsed: defaults applied, and whether changes are paused (spec.paused or the annotation). */
export interface ValidCluster {
  object: GatewayClusterObject;
  paused: boolean;
}

/** The cluster with its spec parsed, or the InvalidSpec problem naming every field that is wrong. */
export function validateCluster(cluster: KubeObject): ValidCluster | { invalid: Problem } {
  const parsed = gatewayClusterSpec.safeParse(cluster.spec ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `spec.${issue.path.join('.')}: ${issue.message}`).join('; ');
    return { invalid: { reason: 'InvalidSpec', message: `invalid spec: ${issues}` } };
  }
  const spec = parsed.data;
  return {
    object: { ...(cluster as unknown as GatewayClusterObject), spec },
    paused: spec.paused || cluster.metadata.annotations?.[PAUSED_ANNOTATION] === 'true',
  };
}
