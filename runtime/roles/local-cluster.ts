import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { assetPath } from '../assets.js';
import { ConfigError, helpText, loadSettings, portSchema, setting } from '../config/settings.js';
import { createLogger } from '../observability/log.js';
import { formatAddress } from '../wire/address.js';

const localSettings = {
  host: setting('host', 'GWC_LOCAL_HOST', z.string().default('127.0.0.1'), 'loopback address every process binds to'),
  port: setting('port', 'GWC_LOCAL_PORT', portSchema.default(7272), 'client port of the gateway (web page and WebSocket)'),
  registerPort: setting('register-port', 'GWC_LOCAL_REGISTER_PORT', portSchema.default(1236), 'port of the Register'),
  handler: setting('handler', 'GWC_HANDLER', z.string().min(1).default('chat'), 'handler module: a bundled name (chat, echo) or a path'),
};

const cliPath = fileURLToPath(new URL('../cli.js', import.meta.url));

/**
 * `gwc local`: a Register, a Gateway and a BusinessWorker as separate processes on one loopback address,
 * sharing a fresh random secret. Ctrl-C (or SIGTERM) stops all three.
 */
export async function runLocalCluster(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(helpText('local', 'Starts a whole cluster on loopback: Register, Gateway and Worker.', localSettings));
    return;
  }
  let settings;
  try {
    settings = loadSettings('local', localSettings, argv, process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(error.message + '\n');
    process.exit(2);
  }
  const log = createLogger({ role: 'local' });
  const { host, port, registerPort, handler } = settings;
  const registerAddress = formatAddress(host, registerPort);
  const env = { ...process.env, GWC_SECRET: randomBytes(24).toString('base64url') };
  const common = ['--register-address', registerAddress];

  const roles: Array<[string, string[]]> = [
    ['register', ['--host', host, '--port', String(registerPort), '--metrics-host', host]],
    [
      'gateway',
      [...common, '--host', host, '--port', String(port), '--lan-ip', host, '--metrics-host', host,
        ...(handler === 'chat' ? ['--web-root', assetPath('runtime', 'web', 'chat')] : [])],
    ],
    ['worker', [...common, '--handler', handler, '--metrics-host', host]],
  ];

  const children: ChildProcess[] = [];
  const awaited = new Set(['register:ready', 'gateway:ready', 'worker:gateway connected']);
  let stopping = false;

  const stopAll = (signal: NodeJS.Signals, exitCode: number) => {
    if (!stopping) log.info('stopping local cluster', { signal });
    stopping = true;
    for (const child of children) if (child.exitCode === null) child.kill(signal);
    const pending = children.filter((child) => child.exitCode === null && child.signalCode === null);
    if (pending.length === 0) process.exit(exitCode);
    let left = pending.length;
    for (const child of pending) child.once('exit', () => --left === 0 && process.exit(exitCode));
  };

  for (const [role, args] of roles) {
    const child = spawn(process.execPath, [cliPath, role, ...args], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      process.stdout.write(line + '\n');
      const msg = readMessage(line);
      if (msg && awaited.delete(`${role}:${msg}`) && awaited.size === 0) {
        log.info('local cluster ready', { url: `http://${formatAddress(host, port)}/`, handler, register: registerAddress });
      }
    });
    child.on('exit', (code, signal) => {
      if (stopping) return;
      log.error('a process of the local cluster exited', { role, code, signal });
      stopAll('SIGTERM', 1);
    });
  }
  process.on('SIGINT', () => stopAll('SIGINT', 0));
  process.on('SIGTERM', () => stopAll('SIGTERM', 0));
}

function readMessage(line: string): string | undefined {
  try {
    return (JSON.parse(line) as { msg?: string }).msg;
  } catch {
    return undefined;
  }
}
