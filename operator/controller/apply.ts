import type { Logger } from '../../runtime/observability/log.js';
import type { KubeClient, KubeObject } from '../kube/kube-client.js';
import { objectPath, typeOf } from '../kube/resource-paths.js';
import type { ChildInformers } from './child-kinds.js';
import { firstDifference } from './contains.js';
import type { EventRecorder, InvolvedObject } from './event-recorder.js';
import type { Problem } from './problems.js';

export interface ApplyDeps {
  client: KubeClient;
  children: ChildInformers;
  events: EventRecorder;
  log: Logger;
}

/**
 * The one path by which children are written: a server-side apply of each desired child, in order, skipped where the
 * cache shows that what would be sent is already there. A child that cannot be applied is a problem; the rest go on.
 */
export async function applyChildren(deps: ApplyDeps, cluster: InvolvedObject, desired: readonly KubeObject[]): Promise<Problem[]> {
  const problems: Problem[] = [];
  for (const child of desired) {
    const problem = await applyChild(deps, cluster, child);
    if (problem) problems.push(problem);
  }
  return problems;
}

async function applyChild(deps: ApplyDeps, cluster: InvolvedObject, child: KubeObject): Promise<Problem | undefined> {
  const { kind, metadata } = child;
  const live = deps.children[kind as keyof ChildInformers]?.get(metadata.namespace!, metadata.name);
  const difference = live ? firstDifference(live, child) : 'new';
  if (difference === undefined) return undefined;
  deps.log.debug('applying', { kind, name: metadata.name, because: difference });
  try {
    await deps.client.apply(objectPath(typeOf(child.apiVersion, kind), metadata.namespace!, metadata.name), child);
  } catch (error) {
    const message = (error as Error).message;
    deps.log.warn('apply failed', { cluster: cluster.metadata.name, kind, name: metadata.name, error: message });
    return { reason: 'ApplyFailed', message: `could not apply ${kind} ${metadata.name}: ${message}` };
  }
  await deps.events.record(cluster, 'Normal', live ? 'Updated' : 'Created', `${live ? 'updated' : 'created'} ${kind} ${metadata.name}`);
  return undefined;
}
