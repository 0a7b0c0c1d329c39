import { childNames } from '../builders/desired-children.js';
import { isNotFound, type KubeClient, type KubeObject } from '../kube/kube-client.js';
import { objectPath, typeOf } from '../kube/resource-paths.js';
import { OPTIONAL_CHILD_KINDS, type ChildInformers } from './child-kinds.js';
import type { EventRecorder } from './event-recorder.js';
import type { Problem } from './problems.js';

export interface PruneDeps {
  client: KubeClient;
  children: ChildInformers;
  events: EventRecorder;
}

/**
 * Deletes children that only exist for some specs (a PodDisruptionBudget above one replica, a ServiceMonitor when
 * asked, the NetworkPolicy and the HTTP API unless turned off, the gateways' autoscaler) once the spec no longer wants
 * them. The register, gateway and worker workloads and Services, and the Secrets, are never deleted here.
 */
export async function pruneChildren(deps: PruneDeps, cluster: KubeObject, desired: readonly KubeObject[]): Promise<Problem[]> {
  const problems: Problem[] = [];
  const wanted = new Set(desired.map((child) => `${child.kind}/${child.metadata.name}`));
  const api = childNames(cluster.metadata.name).api;
  const optional = (kind: keyof ChildInformers, name: string) => (kind === 'Deployment' || kind === 'Service' ? name === api : true);
  for (const kind of OPTIONAL_CHILD_KINDS) {
    for (const live of deps.children[kind]?.items() ?? []) {
      const owned = live.metadata.ownerReferences?.some((ref) => ref.uid === cluster.metadata.uid && ref.controller);
      if (!owned || live.metadata.namespace !== cluster.metadata.namespace || !optional(kind, live.metadata.name)) continue;
      if (wanted.has(`${kind}/${live.metadata.name}`)) continue;
      try {
        await deps.client.delete(objectPath(typeOf(live.apiVersion, live.kind), live.metadata.namespace!, live.metadata.name));
        await deps.events.record(cluster, 'Normal', 'Deleted', `deleted ${kind} ${live.metadata.name}: the spec no longer asks for it`);
      } catch (error) {
        if (!isNotFound(error)) problems.push({ reason: 'DeleteFailed', message: `could not delete ${kind} ${live.metadata.name}: ${(error as Error).message}` });
      }
    }
  }
  return problems;
}
