/**
 * What a log record reports, for programs: its `logEvent` field. Supervisors (`gwc local`), tests and tools wait on
 * these, never on `msg`, which is for people and may be reworded. Each is emitted where the thing happens; a record
 * without one is for people only.
 */
export const LOG_EVENTS = [
  // Every role's process (run-role) and `gwc local`'s own.
  'ready',
  'health-listening',
  'start-failed',
  'stopping',
  'stop-timeout',
  'stop-failed',
  'stopped',
  // Internal links, in every role that dials or accepts them.
  'connection-lost',
  'connection-refused',
  'peer-refused',
  'tls-loaded',
  'tls-reload-failed',
  'tls-peer-refused',
  'tls-connection-failed',
  // The Register.
  'gateway-joined',
  'gateway-left',
  // A Gateway.
  'announced',
  'worker-connected',
  'worker-disconnected',
  'worker-draining',
  'draining',
  'upgrade-abandoned',
  'event-quarantined',
  'client-rate-limited',
  'client-too-slow',
  // A BusinessWorker, and any process with a Gateway API client.
  'subscribed',
  'gateway-connected',
  'gateway-dropped',
  'gateway-lost',
  'command-dropped',
  'drained',
  'handler-threw',
  'upgrade-handler-threw',
  'process-timeout',
  'abandon-timeout',
  'session-not-saved',
  'session-not-taken',
  // `gwc local`.
  'process-exited',
  'worker-reloading',
  'worker-reloaded',
  'reload-failed',
  // The operator.
  'leader-candidate',
  'leader-elected',
  'leader-lost',
] as const;

export type LogEvent = (typeof LOG_EVENTS)[number];
