import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { BUNDLED_PAGES, gatewaySettings } from '../../config/role-settings.js';
import { ConfigError } from '../../config/settings.js';
import { formatAddress } from '../../net/address.js';
import type { LogEvent } from '../../observability/log-events.js';
import { formatLogRecord, logsAsText } from '../../observability/log-format.js';
import { createLogger } from '../../observability/log.js';
import { SupervisedProcess, type LogRecord } from '../../supervisor/supervised-process.js';
import { announce } from './announce.js';
import { watchFile } from './file-watch.js';
import { localHelp, readLocalOptions, type LocalOptions } from './local-settings.js';
import { WorkerReload } from './reload.js';

const cliPath = fileURLToPath(new URL('../../cli.js', import.meta.url));
/** The event with which each role says it can do its job. */
const READY_EVENT: Record<string, LogEvent> = { register: 'ready', gateway: 'ready', worker: 'gateway-connected', api: 'ready' };

/**
 * `gwc local`: a Register, a Gateway, a BusinessWorker and the HTTP API as separate processes on one loopback
 * address, sharing a secret (GWC_SECRET, or a fresh random one) and an API key (GWC_API_KEY, or a fresh one); both
 * are printed once when the cluster is ready (announce.ts). With --watch, a changed handler file starts a new worker
 * (reload.ts). Ctrl-C (or SIGTERM) stops everything.
 */
export async function runLocalCluster(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(localHelp());
    return;
  }
  let options: LocalOptions;
  try {
    options = readLocalOptions(argv, process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(error.message + '\n');
    process.exit(2);
  }
  const { settings, handlerFile, watching, compat } = options;
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
  let stopping = false;
  let workerGeneration = 0;
  let reload: WorkerReload | undefined;

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
      if (stopping || reload?.expectsExit(child)) return;
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

  if (watching) reload = new WorkerReload(worker, { handlerFile, log, startWorker: (onReady) => start('worker', onReady), stopping: () => stopping });
  const stopWatching = reload ? watchFile(handlerFile, reload.reload) : () => {};

  process.on('SIGINT', () => stopAll('SIGINT', 0));
  process.on('SIGTERM', () => stopAll('SIGTERM', 0));
}
