/**
 * Every termination of one container that the kubelet publishes for a set of pods, seen through a watch from before
 * the terminations happen. The kubelet's lastState is best effort (kubernetes/kubernetes#101044: a restarted
 * container can keep `lastState: {}`), but each status it does publish, as `state.terminated` or
 * `lastState.terminated`, carries the exit code; a watch sees every one of them, a later read only the last.
 */
import type { KubeClient, KubeObject } from '../../operator/kube/kube-client.js';
import { RESOURCE_TYPES } from '../../operator/kube/resource-paths.js';
import { Informer } from '../../operator/controller/informer.js';

interface ContainerStatus {
  name: string;
  restartCount: number;
  containerID?: string;
  state?: { terminated?: { exitCode: number; containerID?: string } };
  lastState?: { terminated?: { exitCode: number; containerID?: string } };
}

export interface ContainerTerminations {
  /** Exit code by container ID, of every termination published so far. */
  readonly exitCodes: Map<string, number>;
  /** Restarts by pod name, the highest count published. */
  readonly restarts: Map<string, number>;
  stop(): void;
}

export function watchContainerTerminations(client: KubeClient, namespace: string, labelSelector: string, container: string): ContainerTerminations {
  const exitCodes = new Map<string, number>();
  const restarts = new Map<string, number>();
  const informer = new Informer(client, RESOURCE_TYPES.Pod, { namespace, labelSelector });
  const record = (pod: KubeObject) => {
    const statuses = (pod.status as { containerStatuses?: ContainerStatus[] } | undefined)?.containerStatuses ?? [];
    const status = statuses.find((s) => s.name === container);
    if (!status) return;
    restarts.set(pod.metadata.name, Math.max(restarts.get(pod.metadata.name) ?? 0, status.restartCount));
    for (const terminated of [status.state?.terminated, status.lastState?.terminated]) {
      if (terminated) exitCodes.set(terminated.containerID ?? `${pod.metadata.name}#${status.restartCount}`, terminated.exitCode);
    }
  };
  informer.on('add', record).on('update', record).start();
  return { exitCodes, restarts, stop: () => informer.stop() };
}
