import ipaddr from 'ipaddr.js';
import { isIP } from 'node:net';
import { formatAddress } from '../net/address.js';

/**
 * A client id names the gateway that holds the connection, so any process can route to it without a lookup.
 *
 * Format: lower-case hex of   [gateway IP: 4 bytes (IPv4) or 16 bytes (IPv6)] [internal port: 2 bytes]
 * [connection number: 4 bytes], all big-endian. An IPv4 id is 20 characters (the same layout as
 * GatewayWorker's), an IPv6 id 44; the length tells them apart.
 */
export interface ClientIdParts {
  /** The gateway's lanIp. */
  host: string;
  /** The gateway's internal port. */
  port: number;
  connection: number;
}

const IPV4_HEX = 20;
const IPV6_HEX = 44;

export function encodeClientId({ host, port, connection }: ClientIdParts): string {
  if (isIP(host) === 0) throw new Error(`client id needs an IP address, got ${JSON.stringify(host)}`);
  const ip = ipaddr.parse(host).toByteArray();
  const id = Buffer.allocUnsafe(ip.length + 6);
  id.set(ip, 0);
  id.writeUInt16BE(port, ip.length);
  id.writeUInt32BE(connection >>> 0, ip.length + 2);
  return id.toString('hex');
}

/** Returns undefined for anything that is not a well-formed client id. */
export function decodeClientId(clientId: string): ClientIdParts | undefined {
  if ((clientId.length !== IPV4_HEX && clientId.length !== IPV6_HEX) || !HEX.test(clientId)) return undefined;
  const bytes = Buffer.from(clientId, 'hex');
  const ipLength = bytes.length - 6;
  const host = ipaddr.fromByteArray(Array.from(bytes.subarray(0, ipLength))).toString();
  return { host, port: bytes.readUInt16BE(ipLength), connection: bytes.readUInt32BE(ipLength + 2) };
}

const CONNECTION_HEX = 8;
/** Gateway part of an id (address + port hex) → "ip:port"; there are only as many entries as gateways seen. */
const addressCache = new Map<string, string>();
const ADDRESS_CACHE_LIMIT = 4096;

/** The internal address ("ip:port") of the gateway holding this client, or undefined for a malformed id. */
export function gatewayAddressOf(clientId: string): string | undefined {
  const gatewayPart = clientId.slice(0, -CONNECTION_HEX);
  const cached = addressCache.get(gatewayPart);
  if (cached !== undefined && (clientId.length === IPV4_HEX || clientId.length === IPV6_HEX) && HEX.test(clientId)) return cached;
  const parts = decodeClientId(clientId);
  if (!parts) return undefined;
  const address = formatAddress(parts.host, parts.port);
  if (addressCache.size >= ADDRESS_CACHE_LIMIT) addressCache.clear();
  addressCache.set(gatewayPart, address);
  return address;
}

const HEX = /^[0-9a-f]+$/;
