import { childNames } from '../builders/names.js';
import { GROUP, KIND, PLURAL, VERSION } from '../spec/gateway-cluster-kind.js';
import { gatewayClusterSpec } from '../spec/gateway-cluster-spec.js';
import { gatewayClusterStatus } from '../spec/gateway-cluster-status.js';
import { structuralSchema } from './structural-schema.js';

/**
 * The longest GatewayCluster name whose children all have valid names: each within 63 characters (a Service name
 * is a DNS label), and each StatefulSet's with the `-<10 characters>` revision hash its pods are labelled with.
 */
export const MAX_NAME_LENGTH = (() => {
  const probe = 'x';
  const names = childNames(probe);
  const longest = Math.max(...Object.values(names).map((name) => name.length - probe.length), names.gateway.length - probe.length + 11, names.worker.length - probe.length + 11);
  return 63 - longest;
})();

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
              'x-kubernetes-validations': [
                {
                  rule: `size(self.metadata.name) <= ${MAX_NAME_LENGTH}`,
                  message: `a GatewayCluster name has at most ${MAX_NAME_LENGTH} characters, so that the names of what it makes stay within 63`,
                },
              ],
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
