import { isIP } from 'node:net';
import { z } from 'zod';
import { assetPath } from '../assets.js';
import { DISCONNECTS, UPGRADE_REFUSAL_STATUS } from '../gateway/disconnects.js';
import { formatAddress } from '../net/address.js';
import { commonSettings, metricsSettings } from './common-settings.js';
import { commaList, decimal, integer, list, oneOf, port, portSchema, text } from './setting-values.js';
import { addressListSchema, addressSchema, bool, defaultOf, MIN_SECRET_LENGTH, setting, specSetting } from './settings.js';
import { clientTlsSettings } from './tls-settings.js';

/** Pages shipped in runtime/web: the chat handler's, and a WebSocket console for any other handler. */
export const BUNDLED_PAGES = ['chat', 'console'];

/**
 * GatewayWorker compatibility (README, "Coming from GatewayWorker"): GatewayWorker's Register protocol on a port of
 * the Register's own, GatewayProtocol for GatewayClient on the gateways' internal port; off unless asked for, with a
 * secret of its own. The operator sets these from spec.gatewayWorkerCompat.
 */
const gatewayWorkerSettings = {
  gatewayWorkerCompat: setting(
    'gatewayworker-compat',
    'GWC_GATEWAYWORKER_COMPAT',
    bool.default(false),
    'true: answer GatewayWorker\'s GatewayClient (PHP) as its Register and gateways do, with --gatewayworker-secret',
  ),
  gatewayWorkerSecret: setting(
    'gatewayworker-secret',
    'GWC_GATEWAYWORKER_SECRET',
    z.string().optional(),
    `the secret GatewayClient sends (its $secretKey), not the shared secret: at least ${MIN_SECRET_LENGTH} printable ASCII characters, no " or \\`,
  ),
  gatewayWorkerSecretFile: setting('gatewayworker-secret-file', 'GWC_GATEWAYWORKER_SECRET_FILE', z.string().optional(), 'file holding --gatewayworker-secret'),
};

const ipSchema = z.string().refine((value) => isIP(value) !== 0, 'expected an IPv4 or IPv6 address');

export const registerSettings = {
  ...commonSettings,
  host: setting('host', 'GWC_HOST', z.string().default('0.0.0.0'), 'bind address'),
  port: specSetting('port', 'GWC_PORT', port(1236), 'port gateways, workers and API clients connect to', { field: 'port' }),
  addresses: setting(
    'register-address',
    'GWC_REGISTER_ADDRESS',
    addressListSchema,
    'the address(es) gateways, workers and API clients dial to reach this Register, comma-separated; a handshake that names another is refused ' +
      '(default: host:port; with a wildcard host, any of this host\'s IPs on port)',
  ),
  ...gatewayWorkerSettings,
  gatewayWorkerPort: setting(
    'gatewayworker-port',
    'GWC_GATEWAYWORKER_PORT',
    portSchema.default(1237),
    'port answering GatewayWorker\'s Register protocol (worker_connect) for GatewayClient, with --gatewayworker-compat',
  ),
  ...metricsSettings(9236),
};

/** How the other roles find the Register: by default on this host, at the Register's own default port. */
const registerAddressSetting = setting(
  'register-address',
  'GWC_REGISTER_ADDRESS',
  commaList(z.array(addressSchema).min(1, 'expected at least one host:port'), formatAddress('127.0.0.1', defaultOf(registerSettings.port))),
  'where the Register listens (host:port), or several Registers, comma-separated: any one of them serving is enough',
);

export const gatewaySettings = {
  ...commonSettings,
  registerAddress: registerAddressSetting,
  protocol: specSetting('protocol', 'GWC_PROTOCOL', oneOf(['websocket', 'text', 'frame'], 'websocket'), 'client protocol: websocket, text (newline) or frame (4-byte length)', {
    field: 'protocol',
  }),
  host: setting('host', 'GWC_HOST', z.string().default('0.0.0.0'), 'bind address for clients'),
  port: specSetting('port', 'GWC_PORT', port(7272), 'port for clients', { field: 'clientPort' }),
  lanIp: setting('lan-ip', 'GWC_LAN_IP', ipSchema.default('127.0.0.1'), 'address workers reach this gateway on (the pod IP)'),
  internalPort: specSetting('internal-port', 'GWC_INTERNAL_PORT', port(2900), 'port for workers and API clients', { field: 'internalPort' }),
  internalHost: setting('internal-host', 'GWC_INTERNAL_HOST', z.string().optional(), 'bind address for the internal port (default: lan-ip)'),
  pingInterval: specSetting('ping-interval', 'GWC_PING_INTERVAL', decimal({ min: 0 }, 25), 'seconds between heartbeats (0: off)', { field: 'pingInterval' }),
  pingNotResponseLimit: specSetting(
    'ping-not-response-limit',
    'GWC_PING_NOT_RESPONSE_LIMIT',
    integer({ min: 0 }, 0),
    'close a client silent for this many intervals (0: never)',
    { field: 'pingNotResponseLimit' },
  ),
  pingData: specSetting('ping-data', 'GWC_PING_DATA', text(''), 'heartbeat message sent to clients (empty: WebSocket ping frames)', { field: 'pingData' }),
  maxPayload: specSetting('max-payload', 'GWC_MAX_PAYLOAD', integer({ min: 1 }, 1024 * 1024), 'largest client message in bytes', { field: 'maxPayload' }),
  maxConnections: specSetting(
    'max-connections',
    'GWC_MAX_CONNECTIONS',
    integer({ min: 1 }),
    `client connections accepted at once; past it, ${UPGRADE_REFUSAL_STATUS.unavailable} (default, and at most: the open-file limit less a reserve for internal links and health checks)`,
    { field: 'maxConnections' },
  ),
  handshakeTimeout: specSetting(
    'handshake-timeout',
    'GWC_HANDSHAKE_TIMEOUT',
    decimal({ above: 0 }, 10),
    'seconds a client connection may take to complete its TLS handshake and HTTP upgrade request before it is closed',
    { field: 'handshakeTimeout' },
  ),
  maxMessagesPerSecond: specSetting(
    'max-messages-per-second',
    'GWC_MAX_MESSAGES_PER_SECOND',
    integer({ min: 0 }, 0),
    `a client sending more messages than this in one second is closed (${DISCONNECTS.rateLimit.frame.code}) (0: no limit)`,
    { field: 'maxMessagesPerSecond' },
  ),
  allowedOrigins: specSetting(
    'allowed-origins',
    'GWC_ALLOWED_ORIGINS',
    list(z.string().min(1)),
    'comma-separated Origin values a WebSocket upgrade must carry, e.g. https://chat.example.com (empty: any)',
    { field: 'allowedOrigins' },
  ),
  drainSeconds: specSetting(
    'drain-seconds',
    'GWC_DRAIN_SECONDS',
    integer({ min: 0, max: 3600 }, 0),
    `on SIGTERM, close clients (${DISCONNECTS.shutdown.frame.code}) spread over this many seconds (0: all at once)`,
    {
      field: 'drainSeconds',
      specDefault: { value: 10, why: 'a rollout stops gateways one after another: spread closes keep their clients from all reconnecting at once' },
    },
  ),
  maxSendBuffer: specSetting(
    'max-send-buffer',
    'GWC_MAX_SEND_BUFFER',
    integer({ min: 1024 }, 1024 * 1024),
    `bytes a client may leave unread before it is closed as too slow (${DISCONNECTS.slowClient.frame.code})`,
    { field: 'maxSendBuffer' },
  ),
  router: specSetting('router', 'GWC_ROUTER', oneOf(['sticky', 'random'], 'sticky'), 'sticky: a client stays on one worker; random: any', { field: 'router' }),
  maxPendingEvents: specSetting(
    'max-pending-events',
    'GWC_MAX_PENDING_EVENTS',
    integer({ min: 1 }, 10_000),
    `client events held in the gateway while no worker can take them; past it new clients are refused (${UPGRADE_REFUSAL_STATUS.unavailable}) ` +
      `and a message closes its client (${DISCONNECTS.pendingEvents.frame.code})`,
    { field: 'maxPendingEvents' },
  ),
  maxEventDeaths: specSetting(
    'max-event-deaths',
    'GWC_MAX_EVENT_DEATHS',
    integer({ min: 2 }, 3),
    `worker deaths a client event may coincide with before it is quarantined: not delivered again, and its client closed (${DISCONNECTS.quarantined.frame.code})`,
    { field: 'maxEventDeaths' },
  ),
  workerWindow: specSetting(
    'worker-window',
    'GWC_WORKER_WINDOW',
    integer({ min: 1 }, 4096),
    'client events a worker may have unacknowledged before its clients wait (are not read from)',
    { field: 'workerWindow' },
  ),
  workerWindowBytes: specSetting(
    'worker-window-bytes',
    'GWC_WORKER_WINDOW_BYTES',
    integer({ min: 1 }, 16 * 1024 * 1024),
    'bytes of client messages a worker may have unacknowledged before its clients wait',
    { field: 'workerWindowBytes' },
  ),
  clientWindow: specSetting(
    'client-window',
    'GWC_CLIENT_WINDOW',
    integer({ min: 1 }, 64),
    'unacknowledged events one client may have before it waits (one flooding client cannot take a whole worker)',
    { field: 'clientWindow' },
  ),
  upgradeTimeout: specSetting(
    'upgrade-timeout',
    'GWC_UPGRADE_TIMEOUT',
    decimal({ above: 0 }, 10),
    `seconds a WebSocket upgrade waits for onWebSocketConnect's verdict before it is refused (${DISCONNECTS.upgradeTimedOut.refusal.status})`,
    { field: 'upgradeTimeout' },
  ),
  webRoot: setting(
    'web-root',
    'GWC_WEB_ROOT',
    z
      .string()
      .optional()
      .transform((value) => (value !== undefined && BUNDLED_PAGES.includes(value) ? assetPath('runtime', 'web', value) : value)),
    `folder served over HTTP on the client port (websocket only); a bundled page: ${BUNDLED_PAGES.join(', ')}`,
  ),
  ...gatewayWorkerSettings,
  ...clientTlsSettings,
  ...metricsSettings(9272),
};

/** The bundled handler that runs when none is named; it comes with the chat page. */
export const DEFAULT_HANDLER = 'chat';

export const workerSettings = {
  ...commonSettings,
  registerAddress: registerAddressSetting,
  handler: setting('handler', 'GWC_HANDLER', z.string().min(1).default(DEFAULT_HANDLER), 'handler module: a bundled name (chat, echo) or a path'),
  workerIndex: setting(
    'worker-index',
    'GWC_WORKER_INDEX',
    integer({ min: 0 }).text,
    'this worker\'s number among the workers, as handlers see it (worker.index) (default: the number --name ends in, else 0)',
  ),
  processTimeout: specSetting(
    'process-timeout',
    'GWC_PROCESS_TIMEOUT',
    decimal({ above: 0 }, 30),
    'seconds after which a running handler is reported as slow',
    { field: 'processTimeout' },
  ),
  abandonTimeout: specSetting(
    'abandon-timeout',
    'GWC_ABANDON_TIMEOUT',
    decimal({ min: 0 }, 60),
    'seconds after which a handler still running is given up: its event is acknowledged and the client\'s next one runs (0: never)',
    { field: 'abandonTimeout' },
  ),
  ...metricsSettings(9300),
};

export const apiSettings = {
  ...commonSettings,
  registerAddress: registerAddressSetting,
  host: setting('host', 'GWC_HOST', z.string().default('0.0.0.0'), 'bind address of the HTTP API'),
  port: specSetting('port', 'GWC_PORT', port(7280), 'port of the HTTP API', { field: 'port' }),
  apiKey: setting('api-key', 'GWC_API_KEY', z.string().optional(), `API key(s) a request must carry as "Authorization: Bearer <key>", comma-separated (at least ${MIN_SECRET_LENGTH} characters each)`),
  apiKeyFile: setting('api-key-file', 'GWC_API_KEY_FILE', z.string().optional(), 'file of API keys, one per line; re-read when it changes, so keys rotate without a restart'),
  maxBodyBytes: specSetting('max-body-bytes', 'GWC_MAX_BODY_BYTES', integer({ min: 1 }, 1024 * 1024), 'largest request body in bytes; past it, 413', {
    field: 'maxBodyBytes',
  }),
  requestTimeout: specSetting(
    'request-timeout',
    'GWC_REQUEST_TIMEOUT',
    decimal({ above: 0 }, 30),
    'seconds a request may take to arrive in full before it is answered 408',
    { field: 'requestTimeout' },
  ),
  ...metricsSettings(9280),
};

/** Which table each role reads. */
export const ROLE_SETTINGS = { register: registerSettings, gateway: gatewaySettings, worker: workerSettings, api: apiSettings } as const;
