/**
 * What each role may send to each other role on an authenticated connection, as gwc.proto says it: each way a
 * message goes is a line of its comment, `<senders> -> <receivers>` (roles joined by "or": Gateway, Worker, API
 * client, Register), optionally followed by a remark in parentheses, then a colon or a full stop. Heartbeats go everywhere. Anything
 * else closes the connection: a worker or API client never sends events, a gateway never sends commands.
 */
import { protoType } from './proto-schema.js';
import { Role, type EnvelopeKind } from './types.js';

const FLOW = /^([A-Za-z ]+?) -> ([A-Za-z ]+?)(?: \([^)]*\))?[:.]/;

export interface Flow {
  from: Role[];
  to: Role[];
}

/** The flows a message's comment states, one per `X -> Y:` line. Throws on a role it does not know. */
export function flowsOf(comment: string | null | undefined): Flow[] {
  const flows: Flow[] = [];
  for (const line of (comment ?? '').split('\n')) {
    const match = FLOW.exec(line);
    if (match) flows.push({ from: rolesNamed(match[1]!, line), to: rolesNamed(match[2]!, line) });
  }
  return flows;
}

/** "Worker or API client": the roles by the first word of each name (API: Role.Api). */
function rolesNamed(names: string, line: string): Role[] {
  return names.split(' or ').map((name) => {
    const word = name.trim().split(' ')[0]!;
    const role = Role[(word.charAt(0).toUpperCase() + word.slice(1).toLowerCase()) as keyof typeof Role];
    if (role === undefined || role === Role.Unspecified) throw new Error(`gwc.proto: no role "${name}" in "${line}"`);
    return role;
  });
}

function permittedKinds(): Record<Role, Partial<Record<Role, EnvelopeKind[]>>> {
  const table = Object.fromEntries(Object.values(Role).filter((role) => typeof role === 'number').map((role) => [role, {}])) as Record<Role, Partial<Record<Role, EnvelopeKind[]>>>;
  for (const member of protoType('Envelope').fieldsArray) {
    for (const { from, to } of flowsOf(member.resolve().resolvedType?.comment)) {
      for (const sender of from) for (const receiver of to) (table[sender][receiver] ??= []).push(member.name as EnvelopeKind);
    }
  }
  return table;
}

const MAY_SEND = permittedKinds();

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
