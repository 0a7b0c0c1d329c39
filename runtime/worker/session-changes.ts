/**
 * What a callback did to `ctx.session`, at the top level: the keys it set or changed and the keys it removed. The
 * worker writes back only these, merged at the gateway into the session as it is then, so what others wrote to
 * other keys meanwhile (the Gateway API, from this callback or any process) stays.
 */
import { mergeSession, type Session } from '../wire/session.js';

export interface SessionChanges {
  set: Session;
  removed: string[];
}

/** The changes from `given` to `now`, or undefined when there are none. */
export function sessionChanges(given: Session, now: Session): SessionChanges | undefined {
  const set: Session = {};
  const removed: string[] = [];
  for (const [key, value] of Object.entries(now)) {
    if (value === undefined) continue;
    if (!(key in given) || JSON.stringify(value) !== JSON.stringify(given[key])) set[key] = value;
  }
  for (const key of Object.keys(given)) if (now[key] === undefined) removed.push(key);
  return Object.keys(set).length > 0 || removed.length > 0 ? { set, removed } : undefined;
}

/** `session` with the changes applied, as the gateway applies them (UPDATE_SESSION with removed keys). */
export function applySessionChanges(session: Session, changes: SessionChanges): Session {
  return mergeSession(session, changes.set, changes.removed);
}
