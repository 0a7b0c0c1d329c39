/** The input of every builder (a GatewayCluster with its spec parsed, defaults applied) and the metadata of a child. */
import { API_VERSION, KIND } from '../spec/gateway-cluster-kind.js';
import type { GatewayClusterSpec } from '../spec/gateway-cluster-spec.js';
import { labelsFor, type Component } from './labels.js';

export interface GatewayClusterObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: GatewayClusterSpec;
}

/** What the controller knows beyond the spec. */
export interface BuildContext {
  /** The Secret holding the shared secret (spec.secretRef, or the generated `<name>-secret`), and its key. */
  secretName: string;
  secretKey: string;
  /** The Secret holding the HTTP API's keys (spec.api.keySecretRef, or the generated `<name>-api-key`), and its key. */
  apiKeySecretName: string;
  apiKeySecretKey: string;
  /** With spec.gatewayWorkerCompat: the Secret holding GatewayClient's $secretKey, and its key. */
  gatewayWorkerSecretName?: string | undefined;
  gatewayWorkerSecretKey?: string | undefined;
  /** The image of every role when spec.image is unset: the operator's --operand-image. */
  defaultImage: string;
  /** The gateway StatefulSet's replicas as they are, kept while an autoscaler sets them (undefined: none yet). */
  liveGatewayReplicas: number | undefined;
  /** Whether the ServiceMonitor CRD (monitoring.coreos.com/v1) is installed. */
  serviceMonitorAvailable: boolean;
}

/** A type alias, not an interface, so it stays assignable to index-signature types such as the kube client's. */
export type ChildMetadata = {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences: Array<{ apiVersion: string; kind: string; name: string; uid: string; controller: boolean; blockOwnerDeletion: boolean }>;
};

/** A child as plain JSON with Kubernetes field names: sent as a server-side-apply body as it is. */
export type KubeObject = { apiVersion: string; kind: string; metadata: ChildMetadata } & Record<string, unknown>;

/** metadata of a child: name, namespace, our labels and the controller owner reference. */
export function childMetadata(cluster: GatewayClusterObject, name: string, labels: Record<string, string>): ChildMetadata {
  return {
    name,
    namespace: cluster.metadata.namespace,
    labels,
    ownerReferences: [
      { apiVersion: API_VERSION, kind: KIND, name: cluster.metadata.name, uid: cluster.metadata.uid, controller: true, blockOwnerDeletion: true },
    ],
  };
}

/** metadata of a child belonging to one role. */
export function roleMetadata(cluster: GatewayClusterObject, name: string, component: Component): ChildMetadata {
  return childMetadata(cluster, name, labelsFor(cluster.metadata.name, component));
}

/** A deep copy of a value taken from the spec, so no child shares an object with its input or with another child. */
export function copy<T>(value: T): T {
  return structuredClone(value);
}
