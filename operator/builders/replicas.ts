/** How many pods of a scalable role the builders ask for. */
import type { BuildContext, GatewayClusterObject } from './cluster-object.js';

type Scalable = 'gateway' | 'worker';

/**
 * Autoscaled gateways keep the count their StatefulSet has (the autoscaler's), so the operator never undoes a scale
 * by someone else; spec.gateway.replicas is only where they start. Otherwise: the spec's count.
 */
export function desiredReplicas(cluster: GatewayClusterObject, component: Scalable, ctx: BuildContext): number {
  if (component === 'gateway' && cluster.spec.gateway.autoscaling.enabled) return ctx.liveGatewayReplicas ?? cluster.spec.gateway.replicas;
  return cluster.spec[component].replicas;
}

/** The most pods a role may have: an autoscaler's maximum, or the spec's count. */
export function mostReplicas(cluster: GatewayClusterObject, component: Scalable): number {
  if (component === 'gateway' && cluster.spec.gateway.autoscaling.enabled) return cluster.spec.gateway.autoscaling.maxReplicas;
  return cluster.spec[component].replicas;
}
