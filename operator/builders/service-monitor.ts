/**
 * A prometheus-operator ServiceMonitor scraping the `metrics` port of the cluster's Services (register, gateway
 * headless, worker headless; the client Service has no such port), when asked for and when its CRD is installed.
 * Each series gets the pod's app.kubernetes.io/instance (the cluster's name): the chart's alerts and dashboard group
 * by it.
 */
import { childMetadata, type BuildContext, type GatewayClusterObject, type KubeObject } from './cluster-object.js';
import { INSTANCE_LABEL, instanceLabels, MANAGED_BY } from './labels.js';
import { childNames } from './names.js';

export function serviceMonitors(cluster: GatewayClusterObject, ctx: BuildContext): KubeObject[] {
  const { metrics } = cluster.spec;
  if (!metrics.enabled || !metrics.serviceMonitor.enabled || !ctx.serviceMonitorAvailable) return [];
  const name = cluster.metadata.name;
  const labels = { ...instanceLabels(name), 'app.kubernetes.io/managed-by': MANAGED_BY };
  const endpoint = { port: 'metrics', path: '/metrics', ...(metrics.serviceMonitor.interval ? { interval: metrics.serviceMonitor.interval } : {}) };
  return [
    {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      metadata: childMetadata(cluster, childNames(name).serviceMonitor, labels),
      spec: { selector: { matchLabels: instanceLabels(name) }, podTargetLabels: [INSTANCE_LABEL], endpoints: [endpoint] },
    },
  ];
}
