import { gatewayClusterSpec } from '../spec/gateway-cluster-spec.js';
import { gatewayClusterStatus } from '../spec/gateway-cluster-status.js';
import { structuralSchema } from './structural-schema.js';

export const GROUP = 'gatewaycluster.dev';
export const VERSION = 'v1alpha1';
export const KIND = 'GatewayCluster';
export const PLURAL = 'gatewayclusters';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** The CustomResourceDefinition, generated from the zod schemas; crds/ holds it as YAML (`npm run crd`). */
export function gatewayClusterCrd() {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${PLURAL}.${GROUP}` },
    spec: {
      group: GROUP,
      scope: 'Namespaced',
      names: { kind: KIND, listKind: `${KIND}List`, plural: PLURAL, singular: 'gatewaycluster', shortNames: ['gwc'], categories: ['all'] },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: 'A GatewayWorker-style cluster: one Register, scalable Gateways and BusinessWorkers.',
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: { ...structuralSchema(gatewayClusterSpec, 'input'), default: {} },
                status: structuralSchema(gatewayClusterStatus, 'output'),
              },
            },
          },
          subresources: {
            status: {},
            scale: {
              specReplicasPath: '.spec.worker.replicas',
              statusReplicasPath: '.status.replicas',
              labelSelectorPath: '.status.selector',
            },
          },
          additionalPrinterColumns: [
            { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
            { name: 'Gateways', type: 'string', jsonPath: '.status.gatewaysReady' },
            { name: 'Workers', type: 'string', jsonPath: '.status.workersReady' },
            { name: 'Address', type: 'string', jsonPath: '.status.address' },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
        },
      ],
    },
  };
}
