import type { KubeObject } from '../kube/kube-client.js';
import type { Problem } from './problems.js';

/** Waiting reasons that mean a container will not start without someone changing something. */
const STUCK_REASONS = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'CrashLoopBackOff',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
]);

interface ContainerStatus {
  name: string;
  state?: { waiting?: { reason?: string; message?: string } };
}

/** One problem per stuck container, e.g. "chat-worker-0: ImagePullBackOff (image x not found)", in the order of their lines. */
export function podProblems(pods: KubeObject[]): Problem[] {
  const problems: Problem[] = [];
  for (const pod of pods) {
    const statuses = ((pod.status as { containerStatuses?: ContainerStatus[] } | undefined)?.containerStatuses ?? []);
    for (const status of statuses) {
      const waiting = status.state?.waiting;
      if (waiting?.reason && STUCK_REASONS.has(waiting.reason)) {
        problems.push({ reason: 'PodNotStarting', message: `${pod.metadata.name}: ${waiting.reason}${waiting.message ? ` (${waiting.message})` : ''}` });
      }
    }
  }
  return problems.sort((a, b) => (a.message < b.message ? -1 : a.message > b.message ? 1 : 0));
}
