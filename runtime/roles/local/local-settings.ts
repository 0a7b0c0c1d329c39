import { z } from 'zod';
import { apiSettings, gatewaySettings, registerSettings, workerSettings } from '../../config/role-settings.js';
import { portSchema } from '../../config/setting-values.js';
import { defaultOf, helpText, loadSettings, setting, type SettingValues } from '../../config/settings.js';
import { resolveHandlerPath } from '../../worker/handler-loader.js';

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

export const localHelp = () =>
  helpText('local', 'Starts a whole cluster on loopback: Register, Gateway, Worker and HTTP API.', localSettings) + BARE_FLAGS_HELP;

export interface LocalOptions {
  settings: SettingValues<typeof localSettings>;
  /** The handler module's file, bundled or the user's. */
  handlerFile: string;
  /** --watch: reload the worker when the handler file changes. */
  watching: boolean;
  /** --gatewayworker-compat (or its environment variable): answer GatewayWorker's GatewayClient too. */
  compat: boolean;
}

/** `gwc local`'s flags; throws ConfigError naming a bad one. */
export function readLocalOptions(argv: string[], env: NodeJS.ProcessEnv): LocalOptions {
  const settings = loadSettings('local', localSettings, argv.filter((arg) => arg !== WATCH_FLAG && arg !== COMPAT_FLAG), env);
  return {
    settings,
    handlerFile: resolveHandlerPath(settings.handler),
    watching: argv.includes(WATCH_FLAG),
    compat: argv.includes(COMPAT_FLAG) || env[gatewaySettings.gatewayWorkerCompat.env] === 'true',
  };
}
