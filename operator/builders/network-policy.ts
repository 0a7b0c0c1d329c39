/**
 * The NetworkPolicy that keeps a cluster's internal ports to itself: the Register port and the gateways' internal
 * port admit only the cluster's own pods, pods labelled as its API clients (API_CLIENT_LABEL) and the peers the
 * spec adds; the client port stays open; the metrics ports (also /healthz, /readyz) are open unless the spec names
 * who may scrape them.
 */
import { METRICS_PORTS } from './addresses.js';
import { childMetadata, copy, type GatewayClusterObject, type KubeObject } from './cluster-object.js';
import { instanceLabels, MANAGED_BY } from './labels.js';
import { childNames } from './names.js';

/** Put on a pod (value: the GatewayCluster's name) to let it reach that cluster's Register and gateways as an API client. */
export const API_CLIENT_LABEL = 'gatewaycluster.dev/api-client';

const tcp = (port: number) => ({ protocol: 'TCP', port });

export function networkPolicies(cluster: GatewayClusterObject): KubeObject[] {
  const { networkPolicy, register, gateway, api, gatewayWorkerCompat } = cluster.spec;
  if (!networkPolicy.enabled) return [];
  const name = cluster.metadata.name;
  const internalFrom = [
    { podSelector: { matchLabels: instanceLabels(name) } },
    { podSelector: { matchLabels: { [API_CLIENT_LABEL]: name } } },
    ...copy(networkPolicy.internalFrom ?? []),
  ];
  const metricsRule: Record<string, unknown> = { ports: Object.values(METRICS_PORTS).map(tcp) };
  if (networkPolicy.metricsFrom) metricsRule.from = copy(networkPolicy.metricsFrom);
  return [
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: childMetadata(cluster, childNames(name).networkPolicy, { ...instanceLabels(name), 'app.kubernetes.io/managed-by': MANAGED_BY }),
      spec: {
        podSelector: { matchLabels: instanceLabels(name) },
        policyTypes: ['Ingress'],
        ingress: [
          // GatewayWorker's GatewayClient is held to the same peers: it speaks on the internal port, and to the Register's compat port.
          { from: internalFrom, ports: [tcp(register.port), tcp(gateway.internalPort), ...(gatewayWorkerCompat.enabled ? [tcp(gatewayWorkerCompat.port)] : [])] },
          // Clients, and backends calling the HTTP API (it checks their key).
          { ports: [tcp(gateway.clientPort), ...(api.enabled ? [tcp(api.port)] : [])] },
          metricsRule,
        ],
      },
    },
  ];
}
