import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { apiSettings, BUNDLED_PAGES, gatewaySettings, registerSettings, workerSettings } from '../config/role-settings.js';
import { ConfigError, defaultOf, helpText, loadSettings, portSchema, setting } from '../config/settings.js';
import type { LogEvent } from '../observability/log-events.js';
import { formatLogRecord, logsAsText } from '../observability/log-format.js';
import { createLogger } from '../observability/log.js';
import { SupervisedProcess, type LogRecord } from '../supervisor/supervised-process.js';
import { formatAddress } from '../net/address.js';
import { resolveHandlerPath } from '../worker/handler-loader.js';
import { watchFile } from './file-watch.js';

const localSettings = {
  host: setting('host', 'GWC_LOCAL_HOST', z.string().default('127.0.0.1'), 'loopback address every process binds to'),
  // Each role's own default port.
  port: setting('port', 'GWC_LOCAL_PORT', portSchema.default(defaultOf(gatewaySettings.port)), 'client port of the gateway (web page and WebSocket)'),
  registerPort: setting('register-port', 'GWC_LOCAL_REGISTER_PORT', portSchema.default(defaultOf(registerSettings.port)), 'port of the Register'),
  apiPort: setting('api-port', 'GWC_LOCAL_API_PORT', portSchema.default(defaultOf(apiSettings.port)), 'port of the HTTP API (0: no API)'),
  handler: workerSettings.handler,
  gatewayWorkerPort: registerSettings.gatewayWorkerPort,
};
const WATCH_FLAG = '--watch';
const COMPAT_FLAG = `--${gatewaySettings.gatewayWorkerCompat.flag}`;
const BARE_FLAGS_HELP =
  `  ${WATCH_FLAG}\n      restart the worker when the handler file changes; clients stay connected (the gateway holds them)\n` +
  `  ${COMPAT_FLAG}\n      also answer GatewayWorker's PHP GatewayClient (Register protocol on --gatewayworker-port, GatewayProtocol on the\n` +
  `      gateway's internal port) with a secret of its own (${gatewaySettings.gatewayWorkerSecret.env}, or a random one)\n`;

const cliPath = fileURLToPath(new URL('../cli.js', import.meta.url));
/** The event with which each role says it can do its job. */
const READY_EVENT: Record<string, LogEvent> = { register: 'ready', gateway: 'ready', worker: 'gateway-connected', api: 'ready' };

/**
 * `gwc local`: a Register, a Gateway, a BusinessWorker and the HTTP API as separate processes on one loopback
 * address, sharing a secret (GWC_SECRET, or a fresh random one) and an API key (GWC_API_KEY, or a fresh one); both
 * are printed once when the cluster is ready. With --watch, a changed handler file starts a new worker, and the old
 * one is drained once the new one is connected. Ctrl-C (or SIGTERM) stops everything.
 */
export async function runLocalCluster(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(helpText('local', 'Starts a whole cluster on loopback: Register, Gateway, Worker and HTTP API.', localSettings) + BARE_FLAGS_HELP);
    return;
  }
  const watching = argv.includes(WATCH_FLAG);
  const compat = argv.includes(COMPAT_FLAG) || process.env[gatewaySettings.gatewayWorkerCompat.env] === 'true';
  let settings;
  let handlerFile: string;
  try {
    settings = loadSettings('local', localSettings, argv.filter((arg) => arg !== WATCH_FLAG && arg !== COMPAT_FLAG), process.env);
    handlerFile = resolveHandlerPath(settings.handler);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(error.message + '\n');
    process.exit(2);
  }
  const log = createLogger({ role: 'local' });
  const asText = logsAsText();
  const { host, port, registerPort, apiPort, handler, gatewayWorkerPort } = settings;
  const registerAddress = formatAddress(host, registerPort);
  const secret = process.env.GWC_SECRET || randomBytes(24).toString('base64url');
  const apiKey = process.env.GWC_API_KEY || randomBytes(24).toString('base64url');
  const compatSettings = gatewaySettings.gatewayWorkerSecret;
  const compatSecret = compat ? process.env[compatSettings.env] || randomBytes(16).toString('hex') : undefined;
  const compatEnv = compatSecret ? { [gatewaySettings.gatewayWorkerCompat.env]: 'true', [compatSettings.env]: compatSecret } : {};
  const env = { ...process.env, GWC_SECRET: secret, GWC_API_KEY: apiKey, GWC_LOG_FORMAT: 'json', ...compatEnv };
  const common = ['--register-address', registerAddress, '--metrics-host', host];
  const page = BUNDLED_PAGES.includes(handler) ? handler : 'console';

  const roleArgs: Record<string, string[]> = {
    register: ['--host', host, '--port', String(registerPort), '--metrics-host', host, '--gatewayworker-port', String(gatewayWorkerPort)],
    gateway: [...common, '--host', host, '--port', String(port), '--lan-ip', host, '--web-root', page],
    // One worker, whichever generation of --watch: index 0.
    worker: [...common, '--handler', handler, '--worker-index', '0'],
    ...(apiPort > 0 ? { api: [...common, '--host', host, '--port', String(apiPort)] } : {}),
  };

  const running = new Set<SupervisedProcess>();
  /** Workers replaced by a reload: their exit is expected. */
  const retired = new WeakSet<SupervisedProcess>();
  let stopping = false;
  let workerGeneration = 0;

  const relay = (record: LogRecord, line: string, parsed: boolean) => {
    process.stdout.write(asText && parsed ? formatLogRecord(record) : line + '\n');
  };

  /** Starts one role; `onReady` once it reports its ready event. */
  const start = (role: string, onReady: () => void): SupervisedProcess => {
    const name = role === 'worker' ? `worker-${++workerGeneration}` : role;
    // A reloaded worker starts while the one before it still holds the metrics port: it serves none.
    const extra = role === 'worker' && workerGeneration > 1 ? ['--metrics-port', '0'] : [];
    const child = new SupervisedProcess({
      label: name,
      command: [process.execPath, cliPath, role, '--name', name, ...roleArgs[role]!, ...extra],
      env,
      inheritStderr: true,
      keepRecords: false,
    });
    running.add(child);
    let ready = false;
    child.onRecord((record, line, parsed) => {
      relay(record, line, parsed);
      if (!ready && record.logEvent === READY_EVENT[role]) {
        ready = true;
        onReady();
      }
    });
    void child.exited.then(({ code, signal }) => {
      running.delete(child);
      if (stopping || retired.has(child)) return;
      log.error('a process of the local cluster exited', { logEvent: 'process-exited', role: name, code, signal });
      stopAll('SIGTERM', 1);
    });
    return child;
  };

  const stopAll = (signal: NodeJS.Signals, exitCode: number) => {
    if (!stopping) log.info('stopping local cluster', { logEvent: 'stopping', signal });
    stopping = true;
    stopWatching();
    if (running.size === 0) process.exit(exitCode);
    // Each role stops within its own budget (run-role), so none is given here.
    for (const child of running) void child.stop(signal).then(() => running.size === 0 && process.exit(exitCode));
  };

  const waiting = new Set(Object.keys(roleArgs));
  let worker: SupervisedProcess | undefined;
  for (const role of Object.keys(roleArgs)) {
    const child = start(role, () => {
      waiting.delete(role);
      if (waiting.size === 0) {
        const gatewayWorker = compatSecret ? { registerAddress: formatAddress(host, gatewayWorkerPort), secretKey: compatSecret } : undefined;
        announce({ host, port, apiPort, registerAddress, handler, secret, apiKey, page, watching, asText, log, gatewayWorker });
      }
    });
    if (role === 'worker') worker = child;
  }

  let reloading: SupervisedProcess | undefined;
  const reload = () => {
    if (stopping) return;
    if (reloading) retire(reloading); // a newer change came before the last one was ready
    log.info('handler changed: starting a new worker', { logEvent: 'worker-reloading', handler: handlerFile });
    const fresh = start('worker', () => {
      if (reloading !== fresh) return;
      reloading = undefined;
      retired.delete(fresh);
      const old = worker;
      worker = fresh;
      if (old) retire(old);
      log.info('new worker connected; the previous one drains and stops', { logEvent: 'worker-reloaded', handler: handlerFile });
    });
    reloading = fresh;
    void fresh.exited.then(({ code }) => {
      if (reloading !== fresh || stopping) return;
      reloading = undefined;
      log.error('the new worker did not start (see its output above); the previous one keeps running', { logEvent: 'reload-failed', code });
    });
    retired.add(fresh); // until it is ready, its exit is a failed reload, not the end of the cluster
  };
  const retire = (child: SupervisedProcess) => {
    retired.add(child);
    child.kill('SIGTERM');
  };
  const stopWatching = watching ? watchFile(handlerFile, reload) : () => {};

  process.on('SIGINT', () => stopAll('SIGINT', 0));
  process.on('SIGTERM', () => stopAll('SIGTERM', 0));
}

interface Announcement {
  host: string;
  port: number;
  apiPort: number;
  registerAddress: string;
  handler: string;
  secret: string;
  apiKey: string;
  page: string;
  watching: boolean;
  asText: boolean;
  log: ReturnType<typeof createLogger>;
  /** Where GatewayWorker's GatewayClient points, with --gatewayworker-compat. */
  gatewayWorker: { registerAddress: string; secretKey: string } | undefined;
}

/** Says once where everything is, with the secret and API key (unless they came from the environment). */
function announce(a: Announcement): void {
  const url = `http://${formatAddress(a.host, a.port)}/`;
  const apiUrl = a.apiPort > 0 ? `http://${formatAddress(a.host, a.apiPort)}/v1/` : undefined;
  const key = process.env.GWC_API_KEY ? '(from GWC_API_KEY)' : a.apiKey;
  const secret = process.env.GWC_SECRET ? '(from GWC_SECRET)' : a.secret;
  const curl = apiUrl && `curl -H 'Authorization: Bearer ${a.apiKey}' -d '{"message":"hello from curl"}' ${apiUrl}sendToAll`;
  const compatSecretKey = process.env[gatewaySettings.gatewayWorkerSecret.env] ? `(from ${gatewaySettings.gatewayWorkerSecret.env})` : a.gatewayWorker?.secretKey;
  const php = a.gatewayWorker && `Gateway::$registerAddress = '${a.gatewayWorker.registerAddress}'; Gateway::$secretKey = '${compatSecretKey}';`;
  if (!a.asText) {
    a.log.info('local cluster ready', { logEvent: 'ready', url, handler: a.handler, register: a.registerAddress, api: apiUrl, apiKey: key, secret, curl, watching: a.watching, ...(php ? { gatewayClient: php } : {}) });
    return;
  }
  const lines = [
    '',
    `GatewayCluster is running on ${a.host} with the ${a.handler} handler${a.watching ? ' (reloaded when it changes)' : ''}:`,
    `  ${a.page === 'chat' ? 'chat page' : 'console  '}    ${url}`,
    ...(apiUrl ? [`  HTTP API     ${apiUrl}  (key ${key}; document at ${apiUrl}openapi.json)`, `  try          ${curl}`] : []),
    `  Node client  GatewayClient.connect({ registerAddress: '${a.registerAddress}', secret: '${secret}' })`,
    ...(php ? [`  PHP client   ${php}  (GatewayWorker's GatewayClient)`] : []),
    '  Ctrl-C stops it.',
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
}
