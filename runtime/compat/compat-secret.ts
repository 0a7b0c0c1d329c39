import { ConfigError, readSecret } from '../config/settings.js';
import type { gatewaySettings } from '../config/role-settings.js';

type CompatSettings = { [K in 'gatewayWorkerCompat' | 'gatewayWorkerSecret' | 'gatewayWorkerSecretFile']: (typeof gatewaySettings)[K] };
type CompatValues = { gatewayWorkerCompat: boolean; gatewayWorkerSecret: string | undefined; gatewayWorkerSecretFile: string | undefined };

/** GatewayClient writes its $secretKey into JSON by hand, unescaped: a quote or a backslash would break the JSON. */
const SAFE_IN_HAND_MADE_JSON = /^[\x20-\x21\x23-\x5b\x5d-\x7e]+$/;

/**
 * The GatewayWorker compat secret when compatibility is on (undefined when off): required then, and never the
 * cluster's shared secret, which GatewayWorker's protocol would send in plain text.
 */
export function gatewayWorkerSecret(role: string, specs: CompatSettings, values: CompatValues, sharedSecret: Buffer): Buffer | undefined {
  if (!values.gatewayWorkerCompat) return undefined;
  const given = { flag: specs.gatewayWorkerSecret.flag, env: specs.gatewayWorkerSecret.env, value: values.gatewayWorkerSecret };
  const file = { flag: specs.gatewayWorkerSecretFile.flag, env: specs.gatewayWorkerSecretFile.env, value: values.gatewayWorkerSecretFile };
  const named = `--${given.flag} (${given.env})`;
  const secret = readSecret(role, given, file);
  if (!secret) throw new ConfigError(`${role}: --${specs.gatewayWorkerCompat.flag} needs ${named} or --${file.flag} (${file.env})`);
  if (!SAFE_IN_HAND_MADE_JSON.test(secret.toString('utf8'))) {
    throw new ConfigError(`${role}: invalid setting ${named}: only printable ASCII characters other than " and \\ (GatewayClient puts it in JSON unescaped)`);
  }
  if (secret.equals(sharedSecret)) throw new ConfigError(`${role}: invalid setting ${named}: must differ from the shared secret, which it would expose`);
  return secret;
}
