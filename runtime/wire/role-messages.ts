import { Role, type EnvelopeKind } from './types.js';

/**
 * What each role may send to each other role on an authenticated connection (heartbeats go everywhere). Anything
 * else closes the connection: a worker or API client never sends events, a gateway never sends commands.
 */
const MAY_SEND: Readonly<Record<Role, Partial<Record<Role, readonly EnvelopeKind[]>>>> = {
  [Role.Unspecified]: {},
  [Role.Gateway]: {
    [Role.Register]: ['announce'],
    // drain: the confirmation that it routes nothing more to a draining worker.
    [Role.Worker]: ['event', 'reply', 'drain', 'sessionUpdate'],
    [Role.Api]: ['reply'],
  },
  [Role.Worker]: {
    [Role.Register]: ['subscribe'],
    [Role.Gateway]: ['command', 'ack', 'verdict', 'drain'],
  },
  [Role.Api]: {
    [Role.Register]: ['subscribe'],
    [Role.Gateway]: ['command'],
  },
  [Role.Register]: {
    [Role.Worker]: ['gatewayList'],
    [Role.Api]: ['gatewayList'],
  },
};

/** The kinds of envelope a peer of role `from` may send to us, of role `to`. */
export function receivable(from: Role, to: Role): ReadonlySet<EnvelopeKind> {
  return new Set<EnvelopeKind>(['heartbeat', ...(MAY_SEND[from]?.[to] ?? [])]);
}

/** The roles that may dial a listener of role `listener`: those with something to send it. */
export function dialersOf(listener: Role): Role[] {
  return (Object.keys(MAY_SEND) as unknown as string[])
    .map(Number)
    .filter((from) => (MAY_SEND[from as Role][listener]?.length ?? 0) > 0) as Role[];
}
