import type { Condition } from '../spec/gateway-cluster-status.js';

export type ConditionInput = Omit<Condition, 'lastTransitionTime' | 'observedGeneration'>;

/**
 * The next conditions list: each given condition replaces the one of its type, keeping the old
 * lastTransitionTime when its status did not change (so a steady cluster writes the same status every time).
 */
export function mergeConditions(existing: Condition[] | undefined, updates: ConditionInput[], generation: number | undefined, now: string): Condition[] {
  const byType = new Map((existing ?? []).map((c) => [c.type, c]));
  for (const update of updates) {
    const old = byType.get(update.type);
    const lastTransitionTime = old && old.status === update.status ? old.lastTransitionTime : now;
    const next: Condition = { ...update, lastTransitionTime };
    if (generation !== undefined) next.observedGeneration = generation;
    byType.set(update.type, next);
  }
  return [...byType.values()].sort((a, b) => a.type.localeCompare(b.type));
}
