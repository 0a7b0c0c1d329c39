import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { execFileSync } from 'node:child_process';
import { Controller } from '../../operator/controller/controller.js';
import { GROUP, PLURAL, VERSION } from '../../operator/spec/gateway-cluster-kind.js';
import { crdPath } from '../../operator/crd/write-crd.js';
import { isNotFound, KubeClient, type KubeObject } from '../../operator/kube/kube-client.js';
import { createLogger } from '../../runtime/observability/log.js';
import { ensureBinaries } from '../control-plane/binaries.js';
import { connectControlPlane, startControlPlane, type ControlPlane } from '../control-plane/control-plane.js';
import { nodeControlPlaneDir, readyKubeconfig } from '../control-plane/testcluster-state.js';
import { waitFor } from '../harness/wait.js';

/**
 * A control plane with the CRD installed, and helpers to run in-process controllers against it: a fresh one of its
 * own (start), or the running test node's (onNode), where pods really run.
 */
export class OperatorFixture {
  /** The test's own reads; controllers get clients of their own (their writes are counted). */
  private readonly reader: KubeClient;
  /** On the shared node: what this test made, removed again by stop(). */
  private readonly namespaces: string[] = [];
  private shared = false;

  private constructor(
    readonly controlPlane: ControlPlane,
    readonly kc: KubeConfig,
  ) {
    this.reader = new KubeClient(kc);
  }

  /** `installCrd: false` leaves the CRD to the test (helm install does it). */
  static async start({ installCrd = true } = {}): Promise<OperatorFixture> {
    const controlPlane = await startControlPlane();
    const fixture = new OperatorFixture(controlPlane, controlPlane.kubeConfig());
    try {
      if (installCrd) {
        fixture.kubectl('apply', '-f', crdPath);
        await fixture.waitForCrd(`${PLURAL}.${GROUP}`);
      }
    } catch (error) {
      await controlPlane.stop();
      throw error;
    }
    return fixture;
  }

  /**
   * The test node's control plane (npm test brings the node up for the files under test/node and test/e2e).
   * `installCrd: false` leaves the CRD to the test (helm install does it).
   */
  static async onNode({ installCrd = true } = {}): Promise<OperatorFixture> {
    if (readyKubeconfig() === undefined) {
      throw new Error('no test node is running: run these tests with `npm test -- node` (which brings it up) or after `npm run testcluster -- up`');
    }
    const controlPlane = connectControlPlane(nodeControlPlaneDir);
    const fixture = new OperatorFixture(controlPlane, controlPlane.kubeConfig());
    fixture.shared = true;
    if (installCrd) {
      fixture.kubectl('apply', '--server-side', '--force-conflicts', '-f', crdPath);
      await fixture.waitForCrd(`${PLURAL}.${GROUP}`);
    }
    return fixture;
  }

  /** Until the CRD is Established (kubectl wait fails outright while the CRD has no conditions yet). */
  async waitForCrd(name: string): Promise<void> {
    await waitFor(`CRD ${name} to be established`, async () => {
      const crd = await this.read(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`);
      return crd?.status?.conditions?.some((c: { type: string; status: string }) => c.type === 'Established' && c.status === 'True');
    }, 30_000, 100);
  }

  helm(...args: string[]): string {
    return execFileSync(ensureBinaries().helm, ['--kubeconfig', this.controlPlane.kubeconfigPath, ...args], { encoding: 'utf8' });
  }

  kubectl(...args: string[]): string {
    return execFileSync(ensureBinaries().kubectl, ['--kubeconfig', this.controlPlane.kubeconfigPath, ...args], { encoding: 'utf8' });
  }

  get core(): CoreV1Api {
    return this.kc.makeApiClient(CoreV1Api);
  }

  get objects(): CustomObjectsApi {
    return this.kc.makeApiClient(CustomObjectsApi);
  }

  /** A controller in this process with its own API client (so its writes can be counted). */
  async startController(options: { namespace?: string; operandImage?: string; allowPrivilegedPods?: boolean } = {}): Promise<{ controller: Controller; client: KubeClient }> {
    const client = new KubeClient(this.kc);
    const controller = new Controller({ client, log: createLogger({ role: 'operator-test' }, process.env.GWC_TEST_VERBOSE ? 'debug' : 'error'), ...options });
    await controller.start();
    return { controller, client };
  }

  /** A namespace whose default ServiceAccount exists (pods are refused until it does). */
  async createNamespace(name: string): Promise<void> {
    await this.core.createNamespace({ body: { metadata: { name } } });
    this.namespaces.push(name);
    await waitFor(`the default ServiceAccount of ${name}`, () => this.core.readNamespacedServiceAccount({ namespace: name, name: 'default' }), 30_000, 200);
  }

  /** The IP of a running pod, as the kubelet reported it. */
  async podIp(namespace: string, name: string): Promise<string> {
    const pod = await waitFor(`pod ${namespace}/${name} to have an IP`, async () => (await this.read(`/api/v1/namespaces/${namespace}/pods/${name}`))?.status?.podIP, 60_000, 200);
    return pod as string;
  }

  async createCluster(namespace: string, name: string, spec: unknown, annotations?: Record<string, string>): Promise<void> {
    await this.objects.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: PLURAL,
      body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'GatewayCluster', metadata: { name, ...(annotations ? { annotations } : {}) }, spec },
    });
  }

  async getCluster(namespace: string, name: string): Promise<KubeObject & { spec: Record<string, any>; status?: Record<string, any> }> {
    return (await this.objects.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL, name })) as never;
  }

  async patchCluster(namespace: string, name: string, patch: unknown): Promise<void> {
    this.kubectl('-n', namespace, 'patch', 'gwc', name, '--type=merge', '-p', JSON.stringify(patch));
  }

  /** The GET of any object as plain JSON, or undefined when it does not exist. */
  async read(path: string): Promise<any> {
    try {
      return await this.reader.get(path);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async waitForCondition(namespace: string, name: string, type: string, status: string, timeoutMs = 60_000) {
    return waitFor(`GatewayCluster ${name} condition ${type}=${status}`, async () => {
      const cluster = await this.getCluster(namespace, name);
      const condition = (cluster.status?.conditions as Array<{ type: string; status: string; reason: string; message: string }> | undefined)?.find((c) => c.type === type);
      return condition?.status === status ? { cluster, condition } : undefined;
    }, timeoutMs, 200);
  }

  /** A fresh control plane goes; on the shared node, the namespaces this test made go, and with them their pods. */
  async stop(): Promise<void> {
    if (!this.shared) return this.controlPlane.stop();
    for (const namespace of this.namespaces) this.kubectl('delete', 'namespace', namespace, '--wait=false', '--ignore-not-found');
    await waitFor(`namespaces ${this.namespaces.join(', ')} to be gone`, async () => {
      const left = await Promise.all(this.namespaces.map((namespace) => this.read(`/api/v1/namespaces/${namespace}`)));
      return left.every((namespace) => namespace === undefined);
    }, 180_000, 500);
  }
}
