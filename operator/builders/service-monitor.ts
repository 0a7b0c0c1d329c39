import { childMetadata, type BuildContext, type GatewayClusterObject, type KubeObject } from './cluster-object.js';
import { childNames } from './names.js';

/** A prometheus-operator ServiceMonitor over the metrics ports of the cluster's Services, when asked and installed. */
export function serviceMonitors(cluster: GatewayClusterObject, ctx: BuildContext): KubeObject[] {
  const { metrics } = cluster.spec;
  if (!metrics.enabled || !metrics.serviceMonitor.enabled || !ctx.serviceMonitorAvailable) return [];
  const metadata = childMetadata(cluster, childNames(cluster.metadata.name).serviceMonitor, 'register');
  metadata.labels['app.kubernetes.io/component'] = 'metrics';
  return [
    {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      metadata,
      spec: {
        selector: { matchLabels: { 'app.kubernetes.io/name': 'gateway-cluster', 'app.kubernetes.io/instance': cluster.metadata.name } },
        endpoints: [{ port: 'metrics', path: '/metrics', ...(metrics.serviceMonitor.interval ? { interval: metrics.serviceMonitor.interval } : {}) }],
      },
    },
  ];
}
