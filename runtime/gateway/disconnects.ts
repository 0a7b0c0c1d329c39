/**
 * Every way the gateway ends a client, one row each (as centrifuge's Disconnect{Code, Reason} and ws's constants.js):
 * what the client is told, what becomes of its connection, the metric that counts it and the line that logs it.
 * Client.close(disconnect) is the one way out; help texts and the README name the codes from here.
 */
import type { LogEvent } from '../observability/log-events.js';

/** WebSocket close codes the gateway sends (RFC 6455 section 7.4.1, and the IANA registry for 1012 and 1013). */
export const CloseCode = {
  NORMAL: 1000,
  POLICY_VIOLATION: 1008,
  INTERNAL_ERROR: 1011,
  SERVICE_RESTART: 1012,
  TRY_AGAIN_LATER: 1013,
} as const;

export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** A close frame: text and frame clients have none, and are simply ended after what is queued for them. */
export interface CloseFrame {
  readonly code: CloseCode;
  readonly reason: string;
}

/** The labels of gwc_gateway_connections_refused_total: connections refused, and clients dropped, by cause. */
export type RefusalReason =
  | 'max-connections'
  | 'pending-events'
  | 'origin'
  | 'protocol-error'
  | 'rate-limit'
  | 'heartbeat-timeout'
  | 'handler'
  | 'verdict-timeout';

/**
 * What becomes of the connection.
 * - `read-on`: a close frame follows what is queued; what the client still sends is handled until its connection ends.
 * - `stop-reading`: the same, but nothing more is read from or sent to it, and it is dropped CLOSE_GRACE_MS later
 *   if it has not taken its close frame by then.
 * - `drop`: the connection is dropped at once.
 * - `upgrade-refused`: the client, whose WebSocket upgrade waited for a worker's verdict, ends at once; its listener
 *   answers the upgrade with the verdict's HTTP status (or finds it gone).
 */
export type Ending = 'read-on' | 'stop-reading' | 'drop' | 'upgrade-refused';

/** How a disconnect is counted and logged. */
interface Accounting {
  /** Counted in gwc_gateway_connections_refused_total{reason}, or (`slow-client`) gwc_gateway_slow_clients_closed_total. */
  readonly counted?: RefusalReason | 'slow-client';
  /** Logged with the client id and the detail the caller gives. */
  readonly log?: { readonly level: 'info' | 'warn'; readonly message: string; readonly logEvent?: LogEvent };
}

export type Disconnect =
  | (Accounting & { readonly ending: 'read-on' | 'stop-reading'; readonly frame: CloseFrame })
  | (Accounting & { readonly ending: 'drop' })
  | UpgradeRefusal;

export type UpgradeRefusal = Accounting & {
  readonly ending: 'upgrade-refused';
  /** The HTTP status and body the upgrade is refused with; unset: the handler's. */
  readonly refusal?: { readonly status: number; readonly reason: string };
};

/** HTTP statuses an upgrade is refused with before it becomes a client: a foreign Origin, or no room for a client. */
export const UPGRADE_REFUSAL_STATUS = { origin: 403, unavailable: 503 } as const;

/** How long a client closed with `stop-reading` gets to take its close frame before its connection is dropped. */
export const CLOSE_GRACE_MS = 2000;

/** Logged for every upgrade refused: at info for a client's (by its verdict), at warn before it is one (its Origin). */
export const UPGRADE_REFUSED = 'WebSocket upgrade refused';
const UPGRADE_REFUSED_LOG = { level: 'info', message: UPGRADE_REFUSED } as const;

export const DISCONNECTS = {
  /** The gateway is stopping: clients should reconnect, to another gateway. */
  shutdown: { ending: 'read-on', frame: { code: CloseCode.SERVICE_RESTART, reason: 'gateway stopping' } },
  /** closeClient from a worker or API client. */
  closedByCommand: { ending: 'read-on', frame: { code: CloseCode.NORMAL, reason: '' } },
  /** destroyClient from a worker or API client. */
  destroyedByCommand: { ending: 'drop' },
  /** A message found no room among the events held here (--max-pending-events). */
  pendingEvents: {
    ending: 'read-on',
    frame: { code: CloseCode.TRY_AGAIN_LATER, reason: 'too many events waiting for a worker' },
    counted: 'pending-events',
  },
  /** More messages in one second than --max-messages-per-second. */
  rateLimit: {
    ending: 'stop-reading',
    frame: { code: CloseCode.POLICY_VIOLATION, reason: 'message rate limit exceeded' },
    counted: 'rate-limit',
    log: { level: 'warn', message: 'client closed: message rate limit', logEvent: 'client-rate-limited' },
  },
  /** More than --max-send-buffer bytes left unread. */
  slowClient: {
    ending: 'stop-reading',
    frame: { code: CloseCode.POLICY_VIOLATION, reason: 'send buffer full: client too slow' },
    counted: 'slow-client',
    log: { level: 'warn', message: 'client closed: send buffer full', logEvent: 'client-too-slow' },
  },
  /** An event of the client's was quarantined (--max-event-deaths); the quarantine itself is logged as such. */
  quarantined: {
    ending: 'stop-reading',
    frame: { code: CloseCode.INTERNAL_ERROR, reason: 'a message of this connection could not be handled' },
  },
  /** Silent for --ping-not-response-limit heartbeats. */
  heartbeatTimeout: { ending: 'drop', counted: 'heartbeat-timeout' },
  /** Still connected when the drain is over and the gateway stops. */
  stopped: { ending: 'drop' },
  /** The handler refused the upgrade (RefuseConnection, or it threw: 500), with its status. */
  upgradeRefusedByHandler: { ending: 'upgrade-refused', counted: 'handler', log: UPGRADE_REFUSED_LOG },
  /** No worker's verdict within --upgrade-timeout. */
  upgradeTimedOut: {
    ending: 'upgrade-refused',
    refusal: { status: 503, reason: 'no verdict from a worker in time' },
    counted: 'verdict-timeout',
    log: UPGRADE_REFUSED_LOG,
  },
  /** An event of the client's was quarantined while its upgrade waited: the workers running its handler died on it. */
  upgradeQuarantined: {
    ending: 'upgrade-refused',
    refusal: { status: 500, reason: 'the connection could not be handled' },
    counted: 'handler',
    log: UPGRADE_REFUSED_LOG,
  },
  /** The connection closed while its upgrade waited: nobody is left to answer. */
  upgradeAbandoned: {
    ending: 'upgrade-refused',
    refusal: { status: 503, reason: 'the client left' },
    log: { level: 'info', message: 'client left before its upgrade was decided', logEvent: 'upgrade-abandoned' },
  },
} as const satisfies Record<string, Disconnect>;
