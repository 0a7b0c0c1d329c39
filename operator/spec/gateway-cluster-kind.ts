/** The GatewayCluster resource's API group, version, kind and plural: the CRD declares them, everything else reads them here. */
export const GROUP = 'gatewaycluster.dev';
export const VERSION = 'v1alpha1';
export const KIND = 'GatewayCluster';
export const PLURAL = 'gatewayclusters';
export const API_VERSION = `${GROUP}/${VERSION}`;
