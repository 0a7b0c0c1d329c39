/**
 * Test-only: one pod of the process kubelet, from its loopback IP and volume folders through its init containers
 * and containers to its termination (preStop, SIGTERM, SIGKILL at the end of the grace period), final removal of
 * the pod object and release of its IP and folder. Reports the pod status as the kubelet does (phase, conditions,
 * IPs, container statuses).
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { V1Container, V1Pod, V1PodCondition, V1Service } from '@kubernetes/client-node';
import { ContainerRunner, ContainerWaitingError, kubeTime, type PreparedContainer, type RestartPolicy } from './container-runner.js';
import { DownwardApiError, type PodRuntimeInfo } from './downward-api.js';
import { ContainerConfigError, expandCommand, resolveEnv } from './env-resolver.js';
import type { ImageMap } from './image-map.js';
import type { IpPool } from './ip-pool.js';
import { apiErrorMessage, type KubeletApi } from './kube-api.js';
import { containerLogPath } from './container-logs.js';
import { podDnsEnv } from './service-dns.js';
import { StatusReporter } from './status-reporter.js';
import { inClusterConfigEnv } from './in-cluster-config.js';
import { materializeVolumes, mountMappings, rewritePath, VolumeError, type MaterializedVolumes } from './volumes.js';

export interface PodRunnerDeps {
  api: KubeletApi;
  nodeName: string;
  nodeIp: string;
  nodeAllocatable: Record<string, string>;
  images: ImageMap;
  ipPool: IpPool;
  podsDir: string;
  logsDir: string;
  hostsFile: string;
  /** The Services of a namespace (for service link env vars). */
  services: (namespace: string) => readonly V1Service[];
  /** Always linked: the `kubernetes` Service, pointing at the real API server. */
  masterServices: readonly V1Service[];
  log: (line: string) => void;
}

type Termination = 'deleted' | 'gone' | 'kubelet-stop';

/** How long a pod whose object vanished, or whose kubelet stops, gets between SIGTERM and SIGKILL. */
const SHORT_GRACE_MS = 2000;

interface ContainerSlot {
  spec: V1Container;
  runner: ContainerRunner;
  /** An init container with restartPolicy Always (a sidecar): runs alongside the containers. */
  sidecar: boolean;
}

export class PodRunner {
  pod: V1Pod;
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly ip: string;
  readonly dir: string;
  readonly done: Promise<void>;

  private readonly ownsIp: boolean;
  private readonly startTime = kubeTime();
  private readonly inits: ContainerSlot[];
  private readonly containers: ContainerSlot[];
  private readonly reporter: StatusReporter;
  private readonly conditionTimes = new Map<string, { status: string; time: string }>();
  private volumes: MaterializedVolumes | undefined;
  private initialized = false;
  private terminating: Termination | undefined;
  private terminalPhase: 'Succeeded' | 'Failed' | undefined;
  private wakeRun: (() => void) | undefined;
  private resolveDone!: () => void;
  private terminationWork: Promise<void> | undefined;

  constructor(pod: V1Pod, private readonly deps: PodRunnerDeps) {
    this.pod = pod;
    this.uid = pod.metadata?.uid ?? '';
    this.namespace = pod.metadata?.namespace ?? 'default';
    this.name = pod.metadata?.name ?? '';
    this.ownsIp = !pod.spec?.hostNetwork;
    this.ip = this.ownsIp ? deps.ipPool.allocate() : deps.nodeIp;
    this.dir = path.join(deps.podsDir, `${this.namespace}_${this.name}_${this.uid}`);
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    // Created before the containers, which report their first state through it.
    this.reporter = new StatusReporter(
      () => this.computeStatus(),
      (status) => this.deps.api.patchPodStatus(this.namespace, this.name, status),
      (line) => this.log(line),
    );
    const restartPolicy = (pod.spec?.restartPolicy ?? 'Always') as RestartPolicy;
    this.inits = (pod.spec?.initContainers ?? []).map((spec) => {
      const sidecar = spec.restartPolicy === 'Always';
      return { spec, sidecar, runner: this.makeRunner(spec, !sidecar, sidecar ? 'Always' : restartPolicy === 'Never' ? 'Never' : 'OnFailure', 'PodInitializing') };
    });
    const firstReason = this.inits.length > 0 ? 'PodInitializing' : 'ContainerCreating';
    this.containers = (pod.spec?.containers ?? []).map((spec) => ({ spec, sidecar: false, runner: this.makeRunner(spec, false, restartPolicy, firstReason) }));
  }

  private log(line: string): void {
    this.deps.log(`pod ${this.namespace}/${this.name}: ${line}`);
  }

  private makeRunner(spec: V1Container, init: boolean, restartPolicy: RestartPolicy, waitingReason: string): ContainerRunner {
    const runner = new ContainerRunner({
      container: spec,
      init,
      restartPolicy,
      prepare: () => this.prepare(spec),
      graceMs: () => (this.pod.spec?.terminationGracePeriodSeconds ?? 30) * 1000,
      onChange: () => this.onContainerChange(),
      log: (line) => this.log(line),
    });
    runner.setWaiting(waitingReason);
    return runner;
  }

  private get allSlots(): ContainerSlot[] {
    return [...this.inits, ...this.containers];
  }

  /** Starts the pod; resolves at once (its life goes on in the background, `done` resolves when it is over). */
  start(): void {
    void this.run().catch((error: unknown) => this.log(`internal error: ${error instanceof Error ? error.stack : String(error)}`));
  }

  /** A newer version of the pod object from the watch. */
  update(pod: V1Pod): void {
    this.pod = pod;
    if (pod.metadata?.deletionTimestamp && !this.terminating) {
      void this.terminate('deleted');
      return;
    }
    // Readiness gates are conditions set by others: they may change Ready.
    if (pod.spec?.readinessGates?.length) this.reporter.request();
  }

  private async run(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    this.log(`running with IP ${this.ip}`);
    this.reporter.request();
    let failures = 0;
    while (!this.terminating) {
      try {
        this.volumes = await materializeVolumes(this.pod, this.dir, this.deps.api, this.info());
        for (const warning of this.volumes.warnings) this.log(`warning: ${warning}`);
        break;
      } catch (error) {
        const message = error instanceof VolumeError ? error.message : `setting up volumes: ${apiErrorMessage(error)}`;
        this.log(message);
        for (const slot of this.allSlots) slot.runner.setWaiting('ContainerCreating', message);
        await this.sleep(Math.min(1000 * 2 ** failures++, 10_000));
      }
    }
    for (const slot of this.inits) {
      if (this.terminating) return;
      slot.runner.start();
      await Promise.race([slot.sidecar ? slot.runner.whenStarted : slot.runner.whenFinished, this.sleep(Infinity)]);
      if (this.terminating) return;
      if (!slot.sidecar && slot.runner.lastExitCode !== 0) {
        this.log(`init container ${slot.spec.name} failed with exit code ${slot.runner.lastExitCode}: the pod fails`);
        this.terminalPhase = 'Failed';
        this.reporter.request();
        return;
      }
    }
    this.initialized = true;
    for (const slot of this.containers) slot.runner.start();
    this.reporter.request();
  }

  /** Waits `ms` (Infinity: until woken), or less when the pod starts terminating. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = Number.isFinite(ms) ? setTimeout(wake, ms) : undefined;
      const previous = this.wakeRun;
      function wake() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeRun = () => {
        previous?.();
        wake();
      };
    });
  }

  private onContainerChange(): void {
    // When every container has finished for good, the pod has too: sidecars are stopped.
    if (!this.terminating && this.initialized && this.containers.every((slot) => slot.runner.finished)) {
      for (const slot of this.inits.filter((s) => s.sidecar && !s.runner.finished)) {
        void slot.runner.shutdown(Date.now() + (this.pod.spec?.terminationGracePeriodSeconds ?? 30) * 1000, { preStop: true });
      }
    }
    this.reporter.request();
  }

  private info(): PodRuntimeInfo {
    return { podIP: this.ip, hostIP: this.deps.nodeIp, nodeName: this.deps.nodeName, nodeAllocatable: this.deps.nodeAllocatable };
  }

  /** Turns a container spec into the process to run, or says why it has to wait. */
  private async prepare(container: V1Container): Promise<PreparedContainer> {
    const image = this.deps.images(container.image ?? '');
    if (!image) {
      throw new ContainerWaitingError('ErrImagePull', `image "${container.image ?? ''}" is not in the process kubelet's image map (there is no registry here)`);
    }
    let mappings;
    try {
      mappings = mountMappings(container, this.volumes?.dirs ?? new Map());
    } catch (error) {
      throw new ContainerWaitingError('CreateContainerConfigError', error instanceof Error ? error.message : String(error));
    }
    let resolved: Record<string, string>;
    try {
      resolved = await resolveEnv({
        pod: this.pod,
        container,
        info: this.info(),
        source: this.deps.api,
        services: this.deps.services(this.namespace),
        masterServices: this.deps.masterServices,
      });
    } catch (error) {
      const message = error instanceof ContainerConfigError || error instanceof DownwardApiError ? error.message : apiErrorMessage(error);
      throw new ContainerWaitingError('CreateContainerConfigError', message);
    }
    const rewrite = (value: string) => rewritePath(value, mappings);
    const hostname = this.pod.spec?.hostname || this.name;
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      HOME: this.dir,
      ...image.env,
      HOSTNAME: hostname,
      ...resolved,
    };
    for (const key of Object.keys(env)) env[key] = rewrite(env[key]!);
    Object.assign(env, inClusterConfigEnv(rewrite, env));
    // Kubernetes semantics: command replaces the entrypoint and drops the image's cmd; args replaces the cmd.
    const command = expandCommand(container.command, env) ?? image.entrypoint;
    const args = expandCommand(container.args, env) ?? (container.command ? [] : (image.cmd ?? []));
    const argv = [...command, ...args].map(rewrite);
    if (argv.length === 0) throw new ContainerWaitingError('CreateContainerError', 'no command specified');
    Object.assign(env, podDnsEnv(this.deps.hostsFile, this.pod, this.ip, env.NODE_OPTIONS));
    const cwd = [container.workingDir ? rewrite(container.workingDir) : undefined, image.workingDir, this.dir].find(
      (dir): dir is string => dir !== undefined && existsSync(dir),
    )!;
    const logFile = containerLogPath(this.deps.logsDir, this.namespace, this.name, container.name);
    return {
      spec: { file: argv[0]!, args: argv.slice(1), env, cwd, logFile },
      action: { podIP: this.ip, ports: container.ports ?? [], env, cwd, rewrite },
    };
  }

  /**
   * Stops the pod. `deleted`: preStop hooks, SIGTERM, SIGKILL when the grace period (counted from now) ends, then
   * the final status and the removal of the pod object. `gone` (the object vanished) and `kubelet-stop`: SIGTERM and
   * SIGKILL after a short grace, no API calls. Every case releases the IP and the pod folder.
   */
  terminate(kind: Termination): Promise<void> {
    const escalate = this.terminating === 'deleted' && kind !== 'deleted';
    if (this.terminating && !escalate) return this.terminationWork ?? this.done;
    this.terminating = kind;
    this.wakeRun?.();
    const graceMs = kind === 'deleted'
      ? (this.pod.metadata?.deletionGracePeriodSeconds ?? this.pod.spec?.terminationGracePeriodSeconds ?? 30) * 1000
      : SHORT_GRACE_MS;
    let deadline = Date.now() + graceMs;
    // The grace period counts from when the deletion started: the API server set deletionTimestamp to that moment
    // plus the grace period (to the second; this process shares the machine's clock).
    const deletionTimestamp = kind === 'deleted' ? this.pod.metadata?.deletionTimestamp : undefined;
    const until = deletionTimestamp ? new Date(deletionTimestamp).getTime() + 999 : NaN;
    if (Number.isFinite(until)) deadline = Math.max(Date.now(), Math.min(deadline, until));
    if (escalate) {
      this.reporter.close();
      for (const slot of this.allSlots) void slot.runner.shutdown(deadline, { preStop: false });
      return this.done;
    }
    this.log(`terminating (${kind}, ${deadline - Date.now()} ms left of the grace period)`);
    // Only a deletion is reported to the API; a vanished pod or a stopping kubelet leaves the object as it is.
    if (kind !== 'deleted') this.reporter.close();
    this.terminationWork = (async () => {
      // Containers first, then sidecars and init containers, as the kubelet does.
      await Promise.all(this.containers.map((slot) => slot.runner.shutdown(deadline, { preStop: kind === 'deleted' })));
      await Promise.all(this.inits.map((slot) => slot.runner.shutdown(deadline, { preStop: kind === 'deleted' })));
      if (this.terminating === 'deleted') {
        this.reporter.request();
        await this.reporter.flush();
        this.reporter.close();
        try {
          await this.deps.api.deletePodNow(this.namespace, this.name, this.uid);
          this.log('removed');
        } catch (error) {
          this.log(`final delete failed: ${apiErrorMessage(error)}`);
        }
      }
    })()
      .catch((error: unknown) => this.log(`terminating: ${error instanceof Error ? error.stack : String(error)}`))
      .finally(() => {
        this.reporter.close();
        if (this.ownsIp) this.deps.ipPool.release(this.ip);
        try {
          rmSync(this.dir, { recursive: true, force: true });
        } catch (error) {
          this.log(`removing ${this.dir}: ${String(error)}`);
        }
        this.resolveDone();
      });
    return this.terminationWork;
  }

  /** Pid of each container's current process. */
  processes(): Array<{ container: string; pid: number }> {
    return this.allSlots.flatMap((slot) => (slot.runner.process?.pid ? [{ container: slot.spec.name, pid: slot.runner.process.pid }] : []));
  }

  private phase(): string {
    if (this.terminalPhase) return this.terminalPhase;
    const regular = this.containers.map((slot) => slot.runner);
    if (this.initialized && regular.length > 0 && regular.every((runner) => runner.finished)) {
      this.terminalPhase = regular.every((runner) => runner.lastExitCode === 0) ? 'Succeeded' : 'Failed';
      return this.terminalPhase;
    }
    if (!this.initialized) return 'Pending';
    const neverRan = regular.some((runner) => runner.state.kind === 'waiting' && runner.restartCount === 0 && !runner.lastTerminated);
    return neverRan ? 'Pending' : 'Running';
  }

  private condition(type: string, ok: boolean, reason?: string, message?: string): V1PodCondition {
    const status = ok ? 'True' : 'False';
    const previous = this.conditionTimes.get(type);
    const time = previous && previous.status === status ? previous.time : kubeTime();
    this.conditionTimes.set(type, { status, time });
    // null clears a reason or message left from an earlier patch (strategic merge keeps what is not mentioned).
    return { type, status, lastProbeTime: null, lastTransitionTime: time, reason: (!ok && reason) || null, message: (!ok && message) || null } as unknown as V1PodCondition;
  }

  /** The status subresource as the kubelet would write it. */
  computeStatus(): Record<string, unknown> {
    const phase = this.phase();
    const terminal = phase === 'Succeeded' || phase === 'Failed';
    const running = [...this.inits.filter((slot) => slot.sidecar), ...this.containers];
    const unready = running.filter((slot) => !slot.runner.ready).map((slot) => slot.spec.name);
    const incomplete = this.inits.filter((slot) => (slot.sidecar ? !slot.runner.started && !this.initialized : slot.runner.lastExitCode !== 0)).map((slot) => slot.spec.name);
    const initialized = this.initialized || incomplete.length === 0;
    const containersReady = !terminal && initialized && unready.length === 0;
    const gates = (this.pod.spec?.readinessGates ?? []).map((gate) => gate.conditionType);
    const unmetGates = gates.filter((type) => !(this.pod.status?.conditions ?? []).some((c) => c.type === type && c.status === 'True'));
    const notReadyReason = terminal ? 'PodCompleted' : 'ContainersNotReady';
    const notReadyMessage = terminal ? undefined : `containers with unready status: [${unready.join(' ')}]`;
    const conditions = [
      this.condition('PodReadyToStartContainers', !terminal),
      this.condition('Initialized', initialized, 'ContainersNotInitialized', `containers with incomplete status: [${incomplete.join(' ')}]`),
      this.condition('Ready', containersReady && unmetGates.length === 0,
        containersReady ? 'ReadinessGatesNotReady' : notReadyReason,
        containersReady ? `corresponding condition of pod readiness gate "${unmetGates[0]}" does not exist or is not True` : notReadyMessage),
      this.condition('ContainersReady', containersReady, notReadyReason, notReadyMessage),
      this.condition('PodScheduled', true),
    ];
    const imageOf = (slot: ContainerSlot) => slot.spec.image ?? '';
    return {
      phase,
      conditions,
      hostIP: this.deps.nodeIp,
      hostIPs: [{ ip: this.deps.nodeIp }],
      podIP: this.ip,
      podIPs: [{ ip: this.ip }],
      startTime: this.startTime,
      ...(this.inits.length > 0 ? { initContainerStatuses: this.inits.map((slot) => slot.runner.status(imageOf(slot))) } : {}),
      containerStatuses: this.containers.map((slot) => slot.runner.status(imageOf(slot))),
    };
  }
}
