import { isIP } from 'node:net';

export interface HostPort {
  host: string;
  port: number;
}

/** "10.0.0.5:2900" or "[fd00::5]:2900". */
export function formatAddress(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Parses "host:port" or "[v6]:port"; throws with a clear message on anything else. */
export function parseAddress(address: string): HostPort {
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(address) ?? /^([^:[\]]+):(\d+)$/.exec(address);
  if (!match) throw new Error(`not a host:port address: ${JSON.stringify(address)}`);
  const port = Number(match[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`port out of range in ${JSON.stringify(address)}`);
  return { host: match[1]!, port };
}
