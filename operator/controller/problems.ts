/** The kinds of object a spec names for its pods to mount, checked before anything is applied (references.ts). */
export type ReferencedKind = 'Secret' | 'ConfigMap';

/** Why a cluster is Degraded, in the words of a Kubernetes reason (the Warning event's reason too). */
export type ProblemReason =
  | 'InvalidSpec'
  | 'PrivilegedPodSettings'
  | `${ReferencedKind}NotFound`
  | `${ReferencedKind}KeyMissing`
  | 'SecretTooShort'
  | 'ApplyFailed'
  | 'DeleteFailed'
  | 'PodNotStarting'
  | 'PodsOnLostNode';

/**
 * Something that keeps a cluster from becoming healthy on its own (a missing Secret, stuck pods, a failed write): one
 * line of the Degraded condition, and one Warning event when it first appears.
 */
export interface Problem {
  reason: ProblemReason;
  message: string;
}

/** The Degraded condition's message: each problem's line, in the order found. */
export function degradedMessage(problems: readonly Problem[]): string {
  return problems.map((problem) => problem.message).join('; ');
}
