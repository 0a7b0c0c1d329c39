/**
 * A GatewayCluster on the three-node test cluster, loaded as the soak loads its processes: the soak handler runs on
 * the workers from a ConfigMap and sends its records to a collector on the host (a worker's own files would die with
 * its node), and the operator runs in this process (a node's power cut cannot take it away). Short timeouts, so a
 * failure plays out in a minute or two rather than ten: internal heartbeats and client pings every 2 s, a node
 * NotReady after the test cluster's 20 s grace, its pods replaced 10 s later.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Controller } from '../../operator/controller/controller.js';
import type { KubeObject } from '../../operator/kube/kube-client.js';
import type { GatewayClusterSpecInput } from '../../operator/spec/gateway-cluster-spec.js';
import { waitFor } from '../harness/wait.js';
import { HOST_IP, type NodeLayout } from '../node/node-layout.js';
import { OperatorFixture } from '../operator/operator-fixture.js';
import { RecordCollector } from './record-collector.js';

/** Seconds between internal heartbeats: a peer silent for three is gone. */
export const HEARTBEAT_SECONDS = 2;
/** Seconds between the gateways' pings to clients: a client that hears nothing for three gives up. */
export const PING_SECONDS = 2;
export const NODE_LOSS_TIMEOUT_SECONDS = 10;
export const DRAIN_SECONDS = 3;
/** The HTTP API's GatewayClient waits this long for a gateway's answer (its default). */
export const API_REQUEST_TIMEOUT_MS = 5000;
const HANDLER_CONFIGMAP = 'soak-handler';
const soakHandlerSource = fileURLToPath(new URL('../soak/soak-handler.js', import.meta.url));

export interface Pod {
  name: string;
  component: string;
  ip: string;
  node: string;
  ready: boolean;
  uid: string;
}

export class FailureFixture {
  private constructor(
    readonly operator: OperatorFixture,
    readonly namespace: string,
    readonly collector: RecordCollector,
    readonly controller: Controller,
  ) {}

  static async start(namespace: string): Promise<FailureFixture> {
    const operator = await OperatorFixture.onNode();
    await operator.createNamespace(namespace);
    await operator.core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: HANDLER_CONFIGMAP }, data: { 'handler.mjs': readFileSync(soakHandlerSource, 'utf8') } },
    });
    const collector = await RecordCollector.start(HOST_IP);
    const { controller } = await operator.startController({ namespace });
    return new FailureFixture(operator, namespace, collector, controller);
  }

  async stop(): Promise<void> {
    this.controller.stop();
    await this.collector.stop();
    await this.operator.stop();
  }

  /** The spec of a cluster under test: the soak handler and short heartbeats (its roles spread over the nodes by default). */
  spec(gateways: number, workers: number): GatewayClusterSpecInput {
    const heartbeat = { name: 'GWC_HEARTBEAT_INTERVAL', value: String(HEARTBEAT_SECONDS) };
    return {
      nodeLossTimeout: NODE_LOSS_TIMEOUT_SECONDS,
      register: { env: [heartbeat] },
      gateway: { replicas: gateways, pingInterval: PING_SECONDS, drainSeconds: DRAIN_SECONDS, env: [heartbeat] },
      worker: {
        replicas: workers,
        handler: { configMap: { name: HANDLER_CONFIGMAP, key: 'handler.mjs' } },
        env: [heartbeat, { name: 'GWC_SOAK_COLLECTOR', value: this.collector.address }],
      },
      api: { env: [heartbeat] },
    };
  }

  /** The cluster's pods that are not being deleted, with their node. */
  async pods(cluster: string): Promise<Pod[]> {
    const list = await this.operator.read(`/api/v1/namespaces/${this.namespace}/pods?labelSelector=app.kubernetes.io/instance=${cluster}`);
    return (list.items as KubeObject[])
      .filter((pod) => !pod.metadata.deletionTimestamp)
      .map((pod) => {
        const status = pod.status as { podIP?: string; conditions?: Array<{ type: string; status: string }> } | undefined;
        return {
          name: pod.metadata.name,
          component: pod.metadata.labels?.['app.kubernetes.io/component'] ?? '',
          ip: status?.podIP ?? '',
          node: (pod.spec as { nodeName?: string }).nodeName ?? '',
          ready: status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
          uid: pod.metadata.uid ?? '',
        };
      })
      .sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
  }

  /** Until every gateway and worker the spec asks for is ready, with the Register and the API, none on `avoiding`. */
  async waitForFullCount(cluster: string, timeoutMs: number, avoiding?: NodeLayout): Promise<Pod[]> {
    return waitFor(`${cluster} at full count${avoiding ? ` off ${avoiding.name}` : ''}`, async () => {
      const { spec } = await this.operator.getCluster(this.namespace, cluster);
      const pods = await this.pods(cluster);
      const ready = (component: string) => pods.filter((pod) => pod.component === component && pod.ready && pod.node !== avoiding?.name).length;
      const full = ready('gateway') === spec.gateway.replicas && ready('worker') === spec.worker.replicas && ready('register') === 1 && ready('api') === spec.api.replicas;
      return full && pods.every((pod) => pod.node !== avoiding?.name) ? pods : undefined;
    }, timeoutMs, 250);
  }

  async createCluster(cluster: string, spec: GatewayClusterSpecInput): Promise<Pod[]> {
    await this.operator.createCluster(this.namespace, cluster, spec);
    return this.waitForFullCount(cluster, 180_000);
  }

  /** ws://<pod IP>:<client port>/ of each gateway pod given. */
  gatewayUrls(gateways: Pod[]): string[] {
    return gateways.map((pod) => `ws://${pod.ip}:7272/`);
  }

  /** The client Service, as clients reach the cluster. */
  async serviceUrl(cluster: string): Promise<string> {
    const service = await this.operator.read(`/api/v1/namespaces/${this.namespace}/services/${cluster}-gateway`);
    return `ws://${service.spec.clusterIP}:${service.spec.ports[0].port}/`;
  }

  /** The HTTP API's base URL (its Service) and a key from the generated Secret. */
  async api(cluster: string): Promise<{ base: string; key: string }> {
    const service = await this.operator.read(`/api/v1/namespaces/${this.namespace}/services/${cluster}-api`);
    const secret = await this.operator.read(`/api/v1/namespaces/${this.namespace}/secrets/${cluster}-api-key`);
    return {
      base: `http://${service.spec.clusterIP}:${service.spec.ports[0].port}`,
      key: Buffer.from(secret.data.keys, 'base64').toString().trim(),
    };
  }
}
