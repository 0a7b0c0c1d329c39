import type { KubeObject } from '../kube/kube-client.js';

/** Why a node counts as lost: it says it is not Ready, it stopped reporting (Ready Unknown, unreachable), or it is gone. */
export type LossReason = 'NodeNotReady' | 'NodeUnreachable' | 'NodeDeleted';

export const UNREACHABLE_TAINT = 'node.kubernetes.io/unreachable';

export interface NodeLoss {
  reason: LossReason;
  /** Milliseconds since this process first saw the node lost, on its own monotonic clock. */
  lostMs: number;
  /** When that was, on this process's wall clock (for messages only; never compared with another clock). */
  since: string;
}

interface Condition {
  type: string;
  status: string;
  lastTransitionTime?: string;
}

/** Lost unless its Ready condition is True: a Ready node is never lost, whatever its taints say. */
export function nodeLossReason(node: KubeObject): LossReason | undefined {
  const conditions = ((node.status as { conditions?: Condition[] } | undefined)?.conditions ?? []);
  const ready = conditions.find((condition) => condition.type === 'Ready');
  if (ready?.status === 'True') return undefined;
  const taints = ((node.spec as { taints?: Array<{ key: string }> } | undefined)?.taints ?? []);
  if (ready?.status === 'False' && !taints.some((taint) => taint.key === UNREACHABLE_TAINT)) return 'NodeNotReady';
  return 'NodeUnreachable';
}

/**
 * One spell of being lost: a node deleted and made again (another uid), or a Ready transition this process missed (a
 * new lastTransitionTime, as after a watch gap), starts a new one.
 */
function spellOf(node: KubeObject, reason: LossReason): string {
  const conditions = ((node.status as { conditions?: Condition[] } | undefined)?.conditions ?? []);
  const ready = conditions.find((condition) => condition.type === 'Ready');
  return `${node.metadata.uid ?? ''}|${reason === 'NodeDeleted' ? 'deleted' : `${ready?.status ?? 'none'}|${ready?.lastTransitionTime ?? ''}`}`;
}

interface Entry {
  spell: string;
  reason: LossReason;
  startedAt: number;
  since: string;
}

/**
 * How long each node has been lost, timed from when this process first saw it so, on this process's monotonic clock:
 * the condition's lastTransitionTime was written by another machine's clock (the node's, or the controller
 * manager's), so it only tells one spell from the next and is never subtracted from our time. A restarted operator
 * starts counting again, which only ever waits longer.
 */
export class LostNodes {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly monotonicNow: () => number = () => performance.now(),
    private readonly wallNow: () => Date = () => new Date(),
  ) {}

  /** A node as a watch or a GET shows it. True when it turned lost, turned Ready, or began a new spell. */
  observe(node: KubeObject): boolean {
    const name = node.metadata.name;
    const reason = nodeLossReason(node);
    if (reason === undefined) return this.entries.delete(name);
    return this.start(name, reason, spellOf(node, reason));
  }

  /** The node object is gone. True when that is news. */
  removed(node: KubeObject): boolean {
    return this.start(node.metadata.name, 'NodeDeleted', spellOf(node, 'NodeDeleted'));
  }

  /**
   * How long `name` has been lost, or undefined while it is Ready. `known` is the node as the (synced) cache holds
   * it: a node it does not hold was deleted before this process saw it, and counts from now.
   */
  lost(name: string, known: KubeObject | undefined): NodeLoss | undefined {
    let entry = this.entries.get(name);
    if (!entry && !known) {
      this.start(name, 'NodeDeleted', 'unseen|deleted');
      entry = this.entries.get(name);
    }
    if (!entry) return undefined;
    return { reason: entry.reason, lostMs: this.monotonicNow() - entry.startedAt, since: entry.since };
  }

  /**
   * The node as the API server shows it right now (undefined: 404), before anything is deleted: a Ready node ends
   * the spell, a new spell restarts the count, and a node deleted meanwhile stays lost since it was first seen lost.
   */
  confirm(name: string, current: KubeObject | undefined): NodeLoss | undefined {
    if (current) this.observe(current);
    else this.start(name, 'NodeDeleted', 'gone|deleted');
    return this.entries.has(name) ? this.lost(name, current) : undefined;
  }

  /** Forgets deleted nodes no pod is on any more (`inUse`), so a cluster whose nodes come and go holds no more than it needs. */
  prune(inUse: (name: string) => boolean): void {
    for (const [name, entry] of this.entries) if (entry.reason === 'NodeDeleted' && !inUse(name)) this.entries.delete(name);
  }

  private start(name: string, reason: LossReason, spell: string): boolean {
    const old = this.entries.get(name);
    if (old?.spell === spell) return false;
    // Deleted after it was lost: still the same loss, counted from its start.
    if (old && reason === 'NodeDeleted') {
      old.spell = spell;
      old.reason = reason;
      return false;
    }
    this.entries.set(name, { spell, reason, startedAt: this.monotonicNow(), since: this.wallNow().toISOString() });
    return true;
  }
}
