/** The HTTP API: a Deployment (stateless, any number of replicas) and the Service backends call it through. */
import { apiServicePort, METRICS_PORTS } from './addresses.js';
import { copy, roleMetadata, type BuildContext, type GatewayClusterObject, type KubeObject } from './cluster-object.js';
import { selectorLabels } from './labels.js';
import { childNames } from './names.js';
import { podTemplate } from './pod-template.js';
import { namedPort, roleService } from './service.js';

export function apiDeployment(cluster: GatewayClusterObject, ctx: BuildContext): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: roleMetadata(cluster, childNames(cluster.metadata.name).api, 'api'),
    spec: {
      replicas: cluster.spec.api.replicas,
      selector: { matchLabels: selectorLabels(cluster.metadata.name, 'api') },
      template: podTemplate(cluster, 'api', ctx),
    },
  };
}

export function apiService(cluster: GatewayClusterObject): KubeObject {
  const { api } = cluster.spec;
  const service = roleService(cluster, childNames(cluster.metadata.name).api, 'api', {
    type: api.service.type,
    ports: [namedPort('api', apiServicePort(cluster)), namedPort('metrics', METRICS_PORTS.api)],
  });
  if (api.service.annotations) service.metadata.annotations = copy(api.service.annotations);
  return service;
}

export function apiChildren(cluster: GatewayClusterObject, ctx: BuildContext): KubeObject[] {
  return cluster.spec.api.enabled ? [apiService(cluster), apiDeployment(cluster, ctx)] : [];
}
