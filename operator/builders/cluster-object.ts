import { API_VERSION, KIND } from '../crd/gateway-cluster-crd.js';
import type { GatewayClusterSpec } from '../spec/gateway-cluster-spec.js';
import { labelsFor, type Component } from './labels.js';

export interface GatewayClusterObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; uid: string; generation?: number; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: GatewayClusterSpec;
}

export interface BuildContext {
  secretName: string;
  secretKey: string;
  serviceMonitorAvailable: boolean;
}

export type KubeObject = { apiVersion: string; kind: string; metadata: Record<string, unknown> & { name: string; namespace: string } } & Record<string, unknown>;

export const METRICS_PORTS: Record<Component, number> = { register: 9236, gateway: 9272, worker: 9300 };

/** metadata for a child: name, namespace, our labels and the controller owner reference. */
export function childMetadata(cluster: GatewayClusterObject, name: string, component: Component) {
  return {
    name,
    namespace: cluster.metadata.namespace,
    labels: labelsFor(cluster.metadata.name, component),
    ownerReferences: [{ apiVersion: API_VERSION, kind: KIND, name: cluster.metadata.name, uid: cluster.metadata.uid, controller: true, blockOwnerDeletion: true }],
  };
}

export function registerAddress(cluster: GatewayClusterObject): string {
  return `${cluster.metadata.name}-register.${cluster.metadata.namespace}.svc:${cluster.spec.register.port}`;
}

export function clientServicePort(cluster: GatewayClusterObject): number {
  return cluster.spec.gateway.service.port ?? cluster.spec.gateway.clientPort;
}

export function clientAddress(cluster: GatewayClusterObject): string {
  return `${cluster.metadata.name}-gateway.${cluster.metadata.namespace}.svc:${clientServicePort(cluster)}`;
}
