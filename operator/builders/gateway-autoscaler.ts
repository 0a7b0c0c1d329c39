/**
 * The gateways' HorizontalPodAutoscaler (spec.gateway.autoscaling): it scales the gateway StatefulSet on the average
 * open connections per pod, a Pods metric that a custom metrics adapter (prometheus-adapter) or KEDA serves from
 * each pod's /metrics. Scaling down removes at most one gateway a minute, after a stabilization window: a removed
 * gateway closes its clients with 1012 and they reconnect to the others.
 */
import { GATEWAY_CONNECTIONS_METRIC } from '../../runtime/gateway/gateway-metrics.js';
import { roleMetadata, type GatewayClusterObject, type KubeObject } from './cluster-object.js';
import { childNames } from './names.js';

export function gatewayAutoscaler(cluster: GatewayClusterObject): KubeObject[] {
  const autoscaling = cluster.spec.gateway.autoscaling;
  if (!autoscaling.enabled) return [];
  const names = childNames(cluster.metadata.name);
  return [
    {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: roleMetadata(cluster, names.gateway, 'gateway'),
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'StatefulSet', name: names.gateway },
        minReplicas: autoscaling.minReplicas,
        maxReplicas: autoscaling.maxReplicas,
        metrics: [
          {
            type: 'Pods',
            pods: { metric: { name: GATEWAY_CONNECTIONS_METRIC }, target: { type: 'AverageValue', averageValue: String(autoscaling.targetConnectionsPerPod) } },
          },
        ],
        behavior: {
          scaleDown: { stabilizationWindowSeconds: autoscaling.scaleDownStabilizationSeconds, policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] },
        },
      },
    },
  ];
}
