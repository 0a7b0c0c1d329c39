/**
 * Test-only: the Node the process kubelet registers, kept fresh like a kubelet does (a Lease in kube-node-lease
 * renewed every few seconds, and the Ready condition's heartbeat in the Node status), and deleted on stop.
 */
import os from 'node:os';
import { V1MicroTime, type V1Lease, type V1Node, type V1NodeCondition } from '@kubernetes/client-node';
import { apiErrorMessage, apiStatus, strategicMergePatch, type KubeletApi } from './kube-api.js';

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
const LEASE_SECONDS = 40;

export interface NodeRegistrationOptions {
  api: KubeletApi;
  nodeName: string;
  nodeIp: string;
  /** Node capacity (and allocatable), e.g. `{ cpu: '2', memory: '4Gi', pods: '110' }`. */
  capacity: Record<string, string>;
  heartbeatMs?: number;
  log: (line: string) => void;
}

export class NodeRegistration {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private beating: Promise<void> = Promise.resolve();

  constructor(private readonly o: NodeRegistrationOptions) {}

  /** Creates (or takes over) the Node with a Ready status and its Lease, then heartbeats until stop(). */
  async register(): Promise<void> {
    const { api, nodeName } = this.o;
    const node: V1Node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: nodeName,
        labels: {
          'kubernetes.io/hostname': nodeName,
          'kubernetes.io/os': 'linux',
          'kubernetes.io/arch': os.arch() === 'x64' ? 'amd64' : os.arch(),
          'gateway-cluster.dev/process-kubelet': 'true',
        },
      },
      spec: {},
    };
    try {
      await api.core.createNode({ body: node });
    } catch (error) {
      if (apiStatus(error) !== 409) throw error;
      this.o.log(`node ${nodeName} exists already: taking it over`);
    }
    await this.patchStatus(true);
    await this.renewLease();
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.beating = this.heartbeat().finally(() => this.schedule());
    }, this.o.heartbeatMs ?? 10_000);
  }

  private async heartbeat(): Promise<void> {
    try {
      await this.renewLease();
      await this.patchStatus(false);
    } catch (error) {
      if (!this.stopped) this.o.log(`node heartbeat failed: ${apiErrorMessage(error)}`);
    }
  }

  private conditions(now: string): V1NodeCondition[] {
    const condition = (type: string, status: string, reason: string, message: string) =>
      ({ type, status, reason, message, lastHeartbeatTime: now, lastTransitionTime: now }) as unknown as V1NodeCondition;
    return [
      condition('Ready', 'True', 'KubeletReady', 'process kubelet (test harness) is posting ready status'),
      condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'process kubelet has sufficient memory available'),
      condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'process kubelet has no disk pressure'),
      condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'process kubelet has sufficient PID available'),
    ];
  }

  private async patchStatus(full: boolean): Promise<void> {
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const conditions = this.conditions(now).map((condition) => {
      // Only the first status sets the transition time; heartbeats move lastHeartbeatTime.
      if (full) return condition;
      const { lastTransitionTime: _, ...rest } = condition as unknown as Record<string, unknown>;
      return rest;
    });
    const status: Record<string, unknown> = { conditions };
    if (full) {
      Object.assign(status, {
        capacity: this.o.capacity,
        allocatable: this.o.capacity,
        addresses: [
          { type: 'InternalIP', address: this.o.nodeIp },
          { type: 'Hostname', address: this.o.nodeName },
        ],
        daemonEndpoints: { kubeletEndpoint: { Port: 0 } },
        nodeInfo: {
          machineID: '', systemUUID: '', bootID: '', kernelVersion: os.release(), osImage: 'process kubelet (test harness)',
          containerRuntimeVersion: `process://node-${process.version}`, kubeletVersion: 'v0.0.0-process-kubelet', kubeProxyVersion: '',
          operatingSystem: 'linux', architecture: os.arch() === 'x64' ? 'amd64' : os.arch(),
        },
      });
    }
    await this.o.api.core.patchNodeStatus({ name: this.o.nodeName, body: { status } }, strategicMergePatch);
  }

  private async renewLease(): Promise<void> {
    const { api, nodeName } = this.o;
    const spec = { holderIdentity: nodeName, leaseDurationSeconds: LEASE_SECONDS, renewTime: new V1MicroTime() };
    let lease: V1Lease | undefined;
    try {
      lease = await api.coordination.readNamespacedLease({ namespace: NODE_LEASE_NAMESPACE, name: nodeName });
    } catch (error) {
      if (apiStatus(error) !== 404) throw error;
    }
    if (!lease) {
      await api.coordination.createNamespacedLease({
        namespace: NODE_LEASE_NAMESPACE,
        body: {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: nodeName, namespace: NODE_LEASE_NAMESPACE },
          spec,
        },
      });
      return;
    }
    lease.spec = { ...lease.spec, ...spec };
    await api.coordination.replaceNamespacedLease({ namespace: NODE_LEASE_NAMESPACE, name: nodeName, body: lease });
  }

  /** Stops the heartbeat and deletes the Lease and the Node. */
  async deregister(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.beating;
    const { api, nodeName } = this.o;
    for (const remove of [
      () => api.coordination.deleteNamespacedLease({ namespace: NODE_LEASE_NAMESPACE, name: nodeName }),
      () => api.core.deleteNode({ name: nodeName }),
    ]) {
      try {
        await remove();
      } catch (error) {
        if (apiStatus(error) !== 404) this.o.log(`deregistering node ${nodeName}: ${apiErrorMessage(error)}`);
      }
    }
  }
}
