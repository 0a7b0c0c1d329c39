import { collectDefaultMetrics, Registry } from 'prom-client';
import { commonSettings } from '../config/common-settings.js';
import { ConfigError, helpText, loadSettings, resolveSecret, type SettingSpecs, type SettingValues } from '../config/settings.js';
import { startHealthServer } from '../observability/health-server.js';
import { createLogger, type Logger } from '../observability/log.js';
import { TlsMaterialError } from '../tls/tls-material.js';
import { internalSockets } from './internal-sockets.js';
import type { PeerSockets } from '../wire/peer-sockets.js';

export interface RoleProcess {
  readonly ready: boolean;
  /** How long stop() may take before the process exits anyway (DEFAULT_STOP_TIMEOUT_MS when unset). */
  readonly stopTimeoutMs?: number;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** How long a role's stop() may take unless it says otherwise. */
const DEFAULT_STOP_TIMEOUT_MS = 10_000;

type BaseSpecs = typeof commonSettings & { metricsHost: SettingSpecs[string]; metricsPort: SettingSpecs[string] };

export interface RoleContext {
  log: Logger;
  secret: Buffer;
  registry: Registry;
  /** How this role listens and dials internally: plain TCP, or mutual TLS (--internal-tls-*). */
  peerSockets: PeerSockets;
}

export interface RoleDefinition<S extends SettingSpecs> {
  role: string;
  summary: string;
  settings: S;
  create(settings: SettingValues<S>, context: RoleContext): Promise<RoleProcess>;
}

/**
 * The life of one role's process: settings (exit 2 on a bad one), JSON logs, /metrics + /healthz + /readyz,
 * and a clean stop on SIGTERM or SIGINT.
 */
export async function runRole<S extends SettingSpecs & BaseSpecs>(definition: RoleDefinition<S>, argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(helpText(definition.role, definition.summary, definition.settings));
    return;
  }
  let settings: SettingValues<S>;
  let secret: Buffer;
  try {
    settings = loadSettings(definition.role, definition.settings, argv, process.env);
    secret = resolveSecret(definition.role, settings.secret as string | undefined, settings.secretFile as string | undefined);
  } catch (error) {
    exitForConfig(error);
  }
  const log = createLogger({ role: definition.role, name: settings.name }, settings.logLevel as 'info');
  const registry = new Registry();
  registry.setDefaultLabels({ role: definition.role });
  collectDefaultMetrics({ register: registry });

  process.on('uncaughtException', (error) => {
    log.error('uncaught exception', { error });
  });
  process.on('unhandledRejection', (error) => {
    log.error('unhandled rejection', { error });
  });

  let instance: RoleProcess;
  try {
    const peerSockets = internalSockets(definition.role, settings, log, registry);
    instance = await definition.create(settings, { log, secret, registry, peerSockets });
    await instance.start();
    const metricsPort = settings.metricsPort as number;
    if (metricsPort > 0) {
      await startHealthServer({ host: settings.metricsHost as string, port: metricsPort, registry, isReady: () => instance.ready, log });
    }
  } catch (error) {
    if (error instanceof ConfigError) exitForConfig(error);
    // Certificate files are read and checked at startup: one that cannot be used is a configuration error too.
    if (error instanceof TlsMaterialError) exitForConfig(new ConfigError(`${definition.role}: ${error.message}`));
    log.error('failed to start', { logEvent: 'start-failed', error });
    process.exit(1);
  }

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('stopping', { logEvent: 'stopping', signal });
    const force = setTimeout(() => {
      log.warn('stop took too long; exiting', { logEvent: 'stop-timeout' });
      process.exit(1);
    }, instance.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS);
    force.unref();
    instance.stop().then(
      () => {
        log.info('stopped', { logEvent: 'stopped' });
        process.exit(0);
      },
      (error: unknown) => {
        log.error('stop failed', { logEvent: 'stop-failed', error });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

function exitForConfig(error: unknown): never {
  if (error instanceof ConfigError) {
    process.stderr.write(error.message + '\n');
    process.exit(2);
  }
  throw error;
}
