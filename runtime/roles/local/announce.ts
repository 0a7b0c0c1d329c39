import { gatewaySettings } from '../../config/role-settings.js';
import type { Logger } from '../../observability/log.js';
import { formatAddress } from '../../net/address.js';

export interface Announcement {
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
  log: Logger;
  /** Where GatewayWorker's GatewayClient points, with --gatewayworker-compat. */
  gatewayWorker: { registerAddress: string; secretKey: string } | undefined;
}

/** Says once where everything is, with the secret and API key (unless they came from the environment). */
export function announce(a: Announcement): void {
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
