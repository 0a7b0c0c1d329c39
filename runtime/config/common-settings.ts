import { hostname } from 'node:os';
import { z } from 'zod';
import { decimal, oneOf, portSchema } from './setting-values.js';
import { LOG_LEVELS, MIN_SECRET_LENGTH, positiveInt, setting, specSetting } from './settings.js';
import { internalTlsSettings } from './tls-settings.js';
import { DEFAULT_MAX_FRAME_BYTES } from '../wire/frame-codec.js';
import { DEFAULT_HEARTBEAT_SECONDS } from '../wire/liveness.js';

export const commonSettings = {
  name: setting('name', 'GWC_NAME', z.string().min(1).default(hostname()), 'name of this process in logs and metrics', 'the host name'),
  secret: setting('secret', 'GWC_SECRET', z.string().optional(), `shared secret of the cluster (at least ${MIN_SECRET_LENGTH} characters)`),
  secretFile: setting('secret-file', 'GWC_SECRET_FILE', z.string().optional(), 'file holding the shared secret'),
  logLevel: specSetting('log-level', 'GWC_LOG_LEVEL', oneOf(LOG_LEVELS, 'info'), 'debug, info, warn or error', { field: 'logLevel' }),
  heartbeatInterval: setting(
    'heartbeat-interval',
    'GWC_HEARTBEAT_INTERVAL',
    decimal({ above: 0 }, DEFAULT_HEARTBEAT_SECONDS).text,
    'seconds between heartbeats on internal connections; a peer silent for three is taken as gone',
  ),
  maxFrameBytes: setting(
    'max-frame-bytes',
    'GWC_MAX_FRAME_BYTES',
    positiveInt.default(DEFAULT_MAX_FRAME_BYTES),
    'largest frame accepted on internal connections',
  ),
  ...internalTlsSettings,
};

export function metricsSettings(defaultPort: number) {
  return {
    metricsHost: setting('metrics-host', 'GWC_METRICS_HOST', z.string().default('0.0.0.0'), 'bind address of /metrics, /healthz, /readyz'),
    metricsPort: setting('metrics-port', 'GWC_METRICS_PORT', portSchema.default(defaultPort), 'port of /metrics, /healthz, /readyz (0: off)'),
  };
}
