import { isIP } from 'node:net';
import { z } from 'zod';
import { assetPath } from '../assets.js';
import { commonSettings, metricsSettings, registerAddressSetting } from './common-settings.js';
import { addressListSchema, numeric, portSchema, positiveInt, setting } from './settings.js';
import { clientTlsSettings } from './tls-settings.js';

/** Pages shipped in runtime/web: the chat handler's, and a WebSocket console for any other handler. */
export const BUNDLED_PAGES = ['chat', 'console'];

const ipSchema = z.string().refine((value) => isIP(value) !== 0, 'expected an IPv4 or IPv6 address');
const nonNegativeInt = numeric(z.coerce.number().int().min(0));

export const registerSettings = {
  ...commonSettings,
  host: setting('host', 'GWC_HOST', z.string().default('0.0.0.0'), 'bind address'),
  port: setting('port', 'GWC_PORT', portSchema.default(1236), 'port gateways, workers and API clients connect to'),
  addresses: setting(
    'register-address',
    'GWC_REGISTER_ADDRESS',
    addressListSchema,
    'the address(es) gateways, workers and API clients dial to reach this Register, comma-separated; a handshake that names another is refused ' +
      '(default: host:port; with a wildcard host, any of this host\'s IPs on port)',
  ),
  ...metricsSettings(9236),
};

export const gatewaySettings = {
  ...commonSettings,
  registerAddress: registerAddressSetting,
  protocol: setting('protocol', 'GWC_PROTOCOL', z.enum(['websocket', 'text', 'frame']).default('websocket'), 'client protocol: websocket, text (newline) or frame (4-byte length)'),
  host: setting('host', 'GWC_HOST', z.string().default('0.0.0.0'), 'bind address for clients'),
  port: setting('port', 'GWC_PORT', portSchema.default(7272), 'port for clients'),
  lanIp: setting('lan-ip', 'GWC_LAN_IP', ipSchema.default('127.0.0.1'), 'address workers reach this gateway on (the pod IP)'),
  internalPort: setting('internal-port', 'GWC_INTERNAL_PORT', portSchema.default(2900), 'port for workers and API clients'),
  internalHost: setting('internal-host', 'GWC_INTERNAL_HOST', z.string().optional(), 'bind address for the internal port (default: lan-ip)'),
  pingInterval: setting('ping-interval', 'GWC_PING_INTERVAL', numeric(z.coerce.number().min(0)).default(25), 'seconds between heartbeats (0: off)'),
  pingNotResponseLimit: setting(
    'ping-not-response-limit',
    'GWC_PING_NOT_RESPONSE_LIMIT',
    nonNegativeInt.default(0),
    'close a client silent for this many intervals (0: never)',
  ),
  pingData: setting('ping-data', 'GWC_PING_DATA', z.string().default(''), 'heartbeat message sent to clients (empty: WebSocket ping frames)'),
  maxPayload: setting('max-payload', 'GWC_MAX_PAYLOAD', positiveInt.default(1024 * 1024), 'largest client message in bytes'),
  maxConnections: setting(
    'max-connections',
    'GWC_MAX_CONNECTIONS',
    positiveInt.optional(),
    'client connections accepted at once; past it, 503 (default, and at most: the open-file limit less a reserve for internal links and health checks)',
  ),
  handshakeTimeout: setting(
    'handshake-timeout',
    'GWC_HANDSHAKE_TIMEOUT',
    numeric(z.coerce.number().positive()).default(10),
    'seconds a client connection may take to complete its TLS handshake and HTTP upgrade request before it is closed',
  ),
  maxMessagesPerSecond: setting(
    'max-messages-per-second',
    'GWC_MAX_MESSAGES_PER_SECOND',
    nonNegativeInt.default(0),
    'a client sending more messages than this in one second is closed (1008) (0: no limit)',
  ),
  allowedOrigins: setting(
    'allowed-origins',
    'GWC_ALLOWED_ORIGINS',
    z
      .string()
      .default('')
      .transform((value) => value.split(',').map((origin) => origin.trim()).filter(Boolean)),
    'comma-separated Origin values a WebSocket upgrade must carry (empty: any)',
  ),
  drainSeconds: setting(
    'drain-seconds',
    'GWC_DRAIN_SECONDS',
    numeric(z.coerce.number().int().min(0).max(3600)).default(0),
    'on SIGTERM, close clients (1012) spread over this many seconds (0: all at once)',
  ),
  maxSendBuffer: setting(
    'max-send-buffer',
    'GWC_MAX_SEND_BUFFER',
    positiveInt.default(1024 * 1024),
    'bytes a client may leave unread before it is closed as too slow (1008)',
  ),
  router: setting('router', 'GWC_ROUTER', z.enum(['sticky', 'random']).default('sticky'), 'sticky: a client stays on one worker; random: any'),
  maxPendingEvents: setting(
    'max-pending-events',
    'GWC_MAX_PENDING_EVENTS',
    positiveInt.default(10_000),
    'client events held in the gateway while no worker can take them; past it new clients get 1013',
  ),
  workerWindow: setting(
    'worker-window',
    'GWC_WORKER_WINDOW',
    positiveInt.default(4096),
    'client events a worker may have unacknowledged before its clients wait (are not read from)',
  ),
  workerWindowBytes: setting(
    'worker-window-bytes',
    'GWC_WORKER_WINDOW_BYTES',
    positiveInt.default(16 * 1024 * 1024),
    'bytes of client messages a worker may have unacknowledged before its clients wait',
  ),
  clientWindow: setting(
    'client-window',
    'GWC_CLIENT_WINDOW',
    positiveInt.default(64),
    'unacknowledged events one client may have before it waits (one flooding client cannot take a whole worker)',
  ),
  upgradeTimeout: setting(
    'upgrade-timeout',
    'GWC_UPGRADE_TIMEOUT',
    numeric(z.coerce.number().positive()).default(10),
    'seconds a WebSocket upgrade waits for onWebSocketConnect\'s verdict before it is refused (503)',
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
  ...clientTlsSettings,
  ...metricsSettings(9272),
};

export const workerSettings = {
  ...commonSettings,
  registerAddress: registerAddressSetting,
  handler: setting('handler', 'GWC_HANDLER', z.string().min(1).default('echo'), 'handler module: a bundled name (chat, echo) or a path'),
  processTimeout: setting(
    'process-timeout',
    'GWC_PROCESS_TIMEOUT',
    numeric(z.coerce.number().positive()).default(30),
    'seconds after which a running handler is reported as slow',
  ),
  abandonTimeout: setting(
    'abandon-timeout',
    'GWC_ABANDON_TIMEOUT',
    numeric(z.coerce.number().min(0)).default(60),
    'seconds after which a handler still running is given up: its event is acknowledged and the client\'s next one runs (0: never)',
  ),
  ...metricsSettings(9300),
};

export const apiSettings = {
  ...commonSettings,
  registerAddress: registerAddressSetting,
  host: setting('host', 'GWC_HOST', z.string().default('0.0.0.0'), 'bind address of the HTTP API'),
  port: setting('port', 'GWC_PORT', portSchema.default(7280), 'port of the HTTP API'),
  apiKey: setting('api-key', 'GWC_API_KEY', z.string().optional(), 'API key(s) a request must carry as "Authorization: Bearer <key>", comma-separated (at least 16 characters each)'),
  apiKeyFile: setting('api-key-file', 'GWC_API_KEY_FILE', z.string().optional(), 'file of API keys, one per line; re-read when it changes, so keys rotate without a restart'),
  maxBodyBytes: setting('max-body-bytes', 'GWC_MAX_BODY_BYTES', positiveInt.default(1024 * 1024), 'largest request body in bytes; past it, 413'),
  requestTimeout: setting(
    'request-timeout',
    'GWC_REQUEST_TIMEOUT',
    numeric(z.coerce.number().positive()).default(30),
    'seconds a request may take to arrive in full before it is answered 408',
  ),
  ...metricsSettings(9280),
};
