import type { KubeObject } from '../kube/kube-client.js';
import type { GatewayClusterStatus } from '../spec/gateway-cluster-status.js';
import type { EventRecorder } from './event-recorder.js';
import { degradedMessage, type Problem } from './problems.js';

const identity = (problem: Problem) => `${problem.reason}\n${problem.message}`;

/**
 * Announces each problem of a cluster by one Warning event when it first appears, as client-go's EventCorrelator
 * folds repeats of one reason and message: a problem that lasts through many reconciles is one event, one that goes
 * and comes back is announced again. What was announced is kept here rather than read back from the status, which
 * the cache may not show yet right after this process wrote it.
 */
export class ProblemEvents {
  /** Per cluster `namespace/name`: the problems announced and still there. */
  private readonly announced = new Map<string, Set<string>>();

  constructor(private readonly events: EventRecorder) {}

  async announce(cluster: KubeObject, problems: readonly Problem[]): Promise<void> {
    const key = `${cluster.metadata.namespace}/${cluster.metadata.name}`;
    const before = this.announced.get(key) ?? shownInStatus(cluster, problems);
    const now = new Set<string>();
    for (const problem of problems) {
      const id = identity(problem);
      if (!before.has(id) && !now.has(id)) await this.events.record(cluster, 'Warning', problem.reason, problem.message);
      now.add(id);
    }
    this.announced.set(key, now);
  }

  /** The cluster `namespace/name` is gone. */
  forget(key: string): void {
    this.announced.delete(key);
  }
}

/**
 * For a cluster this process has not spoken of yet (it just started, or just took the lease): the problems, when its
 * Degraded condition already says exactly these, since whoever wrote that condition announced them.
 */
function shownInStatus(cluster: KubeObject, problems: readonly Problem[]): Set<string> {
  const degraded = (cluster.status as GatewayClusterStatus | undefined)?.conditions?.find((c) => c.type === 'Degraded');
  const shown = degraded?.status === 'True' && degraded.message === degradedMessage(problems);
  return new Set(shown ? problems.map(identity) : []);
}
