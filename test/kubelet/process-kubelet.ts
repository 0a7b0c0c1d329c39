/**
 * Test-only harness: a "process kubelet" for a real control plane that has no nodes and no container runtime.
 *
 * It registers a Node (Ready, heartbeat through a Lease and the Ready condition, deleted on stop), acts as the
 * scheduler for the pods of its namespaces (binds pods without a node whose schedulerName is the default, through
 * the pods/binding subresource; nodeSelector, affinity and taints are not considered), and runs the pods bound to
 * its Node as local processes:
 * - images are mapped to commands by an {@link ImageMap} (there are no images; an unknown image waits with reason
 *   ErrImagePull), with Kubernetes command/args semantics and `$(VAR)` expansion;
 * - env, envFrom, downward API, ConfigMap/Secret keys as the kubelet resolves them (CreateContainerConfigError
 *   while something required is missing, retried);
 * - volumes are folders under workDir, reached by rewriting paths in command, args and env (see volumes.ts);
 * - each pod has its own loopback IP `<ipBase>.x.y`, which its processes learn through the downward API and must bind;
 * - Service names resolve through a preload that patches Node's `dns.lookup` (see service-dns.ts); there is no
 *   kube-proxy, so a Service's port must equal its targetPort;
 * - probes, lifecycle hooks, restart policy with back-off, graceful deletion and the pod status as the kubelet
 *   reports it.
 * Only Node processes are expected (the DNS fake patches Node's resolver).
 */
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { KubeConfig, V1Pod, V1Service } from '@kubernetes/client-node';
import { containerLogPath, tailFile } from './container-logs.js';
import type { ImageMap } from './image-map.js';
import { IpPool } from './ip-pool.js';
import { apiErrorMessage, KubeletApi } from './kube-api.js';
import { NodeRegistration } from './node-registration.js';
import { PodRunner } from './pod-runner.js';
import { ResilientInformer } from './resilient-informer.js';
import { ServiceDnsFile, serviceHostEntries } from './service-dns.js';

export type { ImageCommand, ImageMap } from './image-map.js';
export { combineImageMaps, projectImageMap, staticImageMap } from './image-map.js';

export interface ProcessKubeletOptions {
  kubeConfig: KubeConfig;
  /** The Node it registers; distinct per test. */
  nodeName: string;
  /** Only pods of these namespaces are bound and run. */
  namespaces: string[];
  images: ImageMap;
  /** Two octets like '127.101': the node is `<ipBase>.0.0`, pods get `<ipBase>.0.1`, `<ipBase>.0.2`, ... */
  ipBase: string;
  /** Folder for pod volumes (`pods/`), container logs (`logs/`) and the DNS hosts file (`dns/hosts`); created if missing. */
  workDir: string;
  log?: (line: string) => void;
}

/** A process the kubelet is running, for tests. */
export interface RunningProcess {
  namespace: string;
  pod: string;
  uid: string;
  ip: string;
  container: string;
  pid: number;
}

const DEFAULT_SCHEDULERS = new Set(['', 'default-scheduler']);
const NODE_CAPACITY = { cpu: String(os.availableParallelism()), memory: `${Math.floor(os.totalmem() / 2 ** 20)}Mi`, pods: '110', 'ephemeral-storage': '10Gi' };

export class ProcessKubelet {
  readonly workDir: string;
  readonly nodeIp: string;
  private readonly api: KubeletApi;
  private readonly ipPool: IpPool;
  private readonly log: (line: string) => void;
  private readonly node: NodeRegistration;
  private readonly runners = new Map<string, PodRunner>();
  /** Pods this kubelet has finished with (their object may still show up in the watch for a moment). */
  private readonly finished = new Set<string>();
  private readonly binding = new Set<string>();
  private readonly informers: Array<ResilientInformer<V1Pod> | ResilientInformer<V1Service>> = [];
  private readonly podInformers = new Map<string, ResilientInformer<V1Pod>>();
  private readonly serviceInformers = new Map<string, ResilientInformer<V1Service>>();
  private readonly masterServices: V1Service[];
  private readonly dnsFile: ServiceDnsFile;
  private readonly podsDir: string;
  private readonly logsDir: string;
  private dnsTimer: NodeJS.Timeout | undefined;
  private started = false;
  private stopped = false;

  constructor(private readonly o: ProcessKubeletOptions) {
    this.workDir = o.workDir;
    this.podsDir = path.join(this.workDir, 'pods');
    this.logsDir = path.join(this.workDir, 'logs');
    mkdirSync(this.podsDir, { recursive: true });
    mkdirSync(this.logsDir, { recursive: true });
    this.log = (line) => o.log?.(`[kubelet ${o.nodeName}] ${line}`);
    this.api = new KubeletApi(o.kubeConfig);
    this.ipPool = new IpPool(o.ipBase);
    this.nodeIp = this.ipPool.nodeIp;
    this.dnsFile = new ServiceDnsFile(path.join(this.workDir, 'dns', 'hosts'));
    this.node = new NodeRegistration({ api: this.api, nodeName: o.nodeName, nodeIp: this.nodeIp, capacity: NODE_CAPACITY, log: this.log });
    this.masterServices = masterService(o.kubeConfig);
  }

  /** Registers the Node and starts watching; resolves once the first lists are in. */
  async start(): Promise<void> {
    if (this.started) throw new Error('ProcessKubelet.start() called twice');
    this.started = true;
    await this.node.register();
    const starts: Promise<void>[] = [];
    for (const namespace of this.o.namespaces) {
      const pods = new ResilientInformer<V1Pod>(this.o.kubeConfig, `/api/v1/namespaces/${namespace}/pods`,
        () => this.api.core.listNamespacedPod({ namespace }),
        {
          upsert: (pod) => {
            this.onPod(pod);
            this.scheduleDnsUpdate();
          },
          remove: (pod) => {
            this.onPodRemoved(pod);
            this.scheduleDnsUpdate();
          },
        }, this.log);
      const services = new ResilientInformer<V1Service>(this.o.kubeConfig, `/api/v1/namespaces/${namespace}/services`,
        () => this.api.core.listNamespacedService({ namespace }),
        { upsert: () => this.scheduleDnsUpdate(), remove: () => this.scheduleDnsUpdate() }, this.log);
      this.podInformers.set(namespace, pods);
      this.serviceInformers.set(namespace, services);
      this.informers.push(pods, services);
      // Services first, so that the first pods get their service link variables.
      starts.push(services.start().then(() => pods.start()));
    }
    await Promise.all(starts);
    this.scheduleDnsUpdate();
    this.log(`started: node ${this.o.nodeName} (${this.nodeIp}), namespaces ${this.o.namespaces.join(', ')}`);
  }

  /** Stops watching, kills every process it started (SIGTERM, SIGKILL after a short grace) and deletes the Node. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.dnsTimer);
    await Promise.all(this.informers.map((informer) => informer.stop()));
    await Promise.all([...this.runners.values()].map((runner) => runner.terminate('kubelet-stop')));
    this.runners.clear();
    await this.node.deregister();
    this.log('stopped');
  }

  // ---- for tests ----

  /** Every container process currently running. */
  processes(): RunningProcess[] {
    return [...this.runners.values()].flatMap((runner) =>
      runner.processes().map(({ container, pid }) => ({ namespace: runner.namespace, pod: runner.name, uid: runner.uid, ip: runner.ip, container, pid })));
  }

  /** The IP this kubelet gave to the pod, if it runs it. */
  podIp(namespace: string, pod: string): string | undefined {
    return [...this.runners.values()].find((runner) => runner.namespace === namespace && runner.name === pod)?.ip;
  }

  logPath(namespace: string, pod: string, container: string): string {
    return containerLogPath(this.logsDir, namespace, pod, container);
  }

  /** The last lines a container wrote (all its runs, with marker lines between them). */
  tailLog(namespace: string, pod: string, container: string, lines = 50): string {
    return tailFile(this.logPath(namespace, pod, container), lines);
  }

  /** The hosts-style file of Service names this kubelet keeps (for debugging). */
  get hostsFile(): string {
    return this.dnsFile.file;
  }

  // ---- pods ----

  private onPod(pod: V1Pod): void {
    if (this.stopped) return;
    const uid = pod.metadata?.uid ?? '';
    const nodeName = pod.spec?.nodeName;
    if (!nodeName) {
      if (DEFAULT_SCHEDULERS.has(pod.spec?.schedulerName ?? '') && !pod.metadata?.deletionTimestamp) void this.bind(pod);
      return;
    }
    if (nodeName !== this.o.nodeName) return;
    const runner = this.runners.get(uid);
    if (runner) {
      runner.update(pod);
      return;
    }
    if (this.finished.has(uid)) return;
    if (pod.metadata?.deletionTimestamp) {
      // Bound here but never run: nothing to stop.
      this.finished.add(uid);
      void this.api.deletePodNow(pod.metadata.namespace!, pod.metadata.name!, uid).catch((error: unknown) => this.log(`deleting pod ${pod.metadata?.name}: ${apiErrorMessage(error)}`));
      return;
    }
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return;
    let created: PodRunner;
    try {
      created = new PodRunner(pod, {
        api: this.api,
        nodeName: this.o.nodeName,
        nodeIp: this.nodeIp,
        nodeAllocatable: NODE_CAPACITY,
        images: this.o.images,
        ipPool: this.ipPool,
        podsDir: this.podsDir,
        logsDir: this.logsDir,
        hostsFile: this.dnsFile.file,
        services: (namespace) => this.serviceInformers.get(namespace)?.list(namespace) ?? [],
        masterServices: this.masterServices,
        log: this.log,
      });
    } catch (error) {
      this.log(`cannot run pod ${pod.metadata?.namespace}/${pod.metadata?.name}: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    this.runners.set(uid, created);
    void created.done.then(() => {
      this.runners.delete(uid);
      this.finished.add(uid);
    });
    created.start();
  }

  private onPodRemoved(pod: V1Pod): void {
    const uid = pod.metadata?.uid ?? '';
    const runner = this.runners.get(uid);
    if (runner) void runner.terminate('gone');
  }

  private async bind(pod: V1Pod): Promise<void> {
    const uid = pod.metadata?.uid ?? '';
    const namespace = pod.metadata?.namespace ?? 'default';
    const name = pod.metadata?.name ?? '';
    if (this.binding.has(uid)) return;
    this.binding.add(uid);
    try {
      for (let attempt = 0; !this.stopped; attempt++) {
        try {
          if (await this.api.bindPod(namespace, name, uid, this.o.nodeName)) this.log(`bound pod ${namespace}/${name}`);
          return;
        } catch (error) {
          this.log(`binding pod ${namespace}/${name} failed: ${apiErrorMessage(error)}`);
          await new Promise((resolve) => setTimeout(resolve, Math.min(500 * 2 ** attempt, 5000)));
          const current = this.podInformers.get(namespace)?.get(name, namespace);
          if (!current || current.metadata?.uid !== uid || current.spec?.nodeName || current.metadata?.deletionTimestamp) return;
        }
      }
    } finally {
      this.binding.delete(uid);
    }
  }

  // ---- DNS ----

  private scheduleDnsUpdate(): void {
    if (this.stopped || this.dnsTimer) return;
    this.dnsTimer = setTimeout(() => {
      this.dnsTimer = undefined;
      const services = [...this.serviceInformers.values()].flatMap((informer) => informer.list());
      const pods = [...this.podInformers.values()].flatMap((informer) => informer.list());
      const entries = serviceHostEntries(services, pods);
      for (const service of this.masterServices) {
        const ip = service.spec?.clusterIP;
        if (ip && /^\d+\.\d+\.\d+\.\d+$/.test(ip)) entries.push([ip, 'kubernetes.default.svc.cluster.local']);
      }
      try {
        this.dnsFile.update(entries);
      } catch (error) {
        this.log(`writing ${this.dnsFile.file}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }, 10);
  }
}

/**
 * The `kubernetes` Service as the processes see it: its address and port are the real API server's (a pod's
 * KUBERNETES_SERVICE_HOST/PORT lead to it), since there is no kube-proxy to translate the cluster IP.
 */
function masterService(kubeConfig: KubeConfig): V1Service[] {
  const server = kubeConfig.getCurrentCluster()?.server;
  if (!server) return [];
  const url = new URL(server);
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  return [{ metadata: { name: 'kubernetes', namespace: 'default' }, spec: { clusterIP: url.hostname.replace(/^\[|\]$/g, ''), ports: [{ name: 'https', port, protocol: 'TCP' }] } }];
}
