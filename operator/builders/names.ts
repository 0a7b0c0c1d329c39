/** Names of a GatewayCluster's children, all derived from the cluster's name. */
export function childNames(cluster: string) {
  return {
    register: `${cluster}-register`,
    registerService: `${cluster}-register`,
    gateway: `${cluster}-gateway`,
    gatewayHeadless: `${cluster}-gateway-headless`,
    gatewayClient: `${cluster}-gateway`,
    worker: `${cluster}-worker`,
    workerHeadless: `${cluster}-worker-headless`,
    secret: `${cluster}-secret`,
    pdbGateway: `${cluster}-gateway`,
    pdbWorker: `${cluster}-worker`,
    serviceMonitor: cluster,
  };
}
