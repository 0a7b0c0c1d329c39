/** Names of a GatewayCluster's children, all derived from the cluster's name. */
export interface ChildNames {
  register: string;
  registerService: string;
  gateway: string;
  gatewayHeadless: string;
  gatewayClient: string;
  worker: string;
  workerHeadless: string;
  secret: string;
  pdbGateway: string;
  pdbWorker: string;
  serviceMonitor: string;
  networkPolicy: string;
  api: string;
  apiKeySecret: string;
  gatewayWorkerSecret: string;
}

export function childNames(cluster: string): ChildNames {
  return {
    register: `${cluster}-register`, // Deployment
    registerService: `${cluster}-register`,
    gateway: `${cluster}-gateway`, // StatefulSet
    gatewayHeadless: `${cluster}-gateway-headless`,
    gatewayClient: `${cluster}-gateway`, // the Service clients connect through
    worker: `${cluster}-worker`, // StatefulSet
    workerHeadless: `${cluster}-worker-headless`,
    secret: `${cluster}-secret`, // made once by the controller, not by the builders
    pdbGateway: `${cluster}-gateway`,
    pdbWorker: `${cluster}-worker`,
    serviceMonitor: cluster,
    networkPolicy: `${cluster}-internal`,
    api: `${cluster}-api`, // Deployment and its Service
    apiKeySecret: `${cluster}-api-key`, // made once by the controller, like the shared secret
    gatewayWorkerSecret: `${cluster}-gatewayworker-secret`, // GatewayClient's $secretKey, made once like the others
  };
}
