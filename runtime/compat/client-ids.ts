import { isIPv4 } from 'node:net';
import { ConfigError } from '../config/settings.js';

/** GatewayClient reads a client id as 4 bytes of IPv4 address, 2 of port and 4 of connection id (20 hex digits). */
export function requireIpv4LanIp(lanIp: string): void {
  if (!isIPv4(lanIp)) {
    throw new ConfigError(`gateway: --gatewayworker-compat needs an IPv4 --lan-ip (GWC_LAN_IP), got ${lanIp}: GatewayWorker's client ids hold an IPv4 address`);
  }
}
