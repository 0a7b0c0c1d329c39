import type { KubeObject } from '../kube/kube-client.js';

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

/** One line per pod whose containers are stuck, e.g. "chat-worker-0: ImagePullBackOff (image x not found)". */
export function podProblems(pods: KubeObject[]): string[] {
  const problems: string[] = [];
  for (const pod of pods) {
    const statuses = ((pod.status as { containerStatuses?: ContainerStatus[] } | undefined)?.containerStatuses ?? []);
    for (const status of statuses) {
      const waiting = status.state?.waiting;
      if (waiting?.reason && STUCK_REASONS.has(waiting.reason)) {
        problems.push(`${pod.metadata.name}: ${waiting.reason}${waiting.message ? ` (${waiting.message})` : ''}`);
      }
    }
  }
  return problems.sort();
}
