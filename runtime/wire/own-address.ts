import ipaddr from 'ipaddr.js';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { formatAddress, parseAddress } from '../net/address.js';
import type { OwnAddress } from './peer-connection.js';

/** One spelling per address: IPs in their canonical form (an IPv4-mapped IPv6 address as IPv4), names in lower case. */
export function normalizeAddress(address: string): string | undefined {
  try {
    const { host, port } = parseAddress(address);
    return formatAddress(canonicalHost(host), port);
  } catch {
    return undefined;
  }
}

/** A gateway is reached at the one address it announces (lanIp:internalPort). */
export function announcedAddress(address: string): OwnAddress {
  const own = normalizeAddress(address);
  return { description: address, matches: (target) => own !== undefined && normalizeAddress(target) === own };
}

/**
 * The Register is reached at the addresses it is told it has (`names`: what dialers are configured with, often a
 * Service name), or else at the address it listens on; a wildcard listener (0.0.0.0, ::) is reached at any of this
 * host's own IP addresses on its port.
 */
export function listeningAddress(host: string, port: number, names: readonly string[]): OwnAddress {
  const listed = new Set(names.map(normalizeAddress).filter((name): name is string => name !== undefined));
  const wildcard = host === '0.0.0.0' || host === '::';
  const own = wildcard ? undefined : normalizeAddress(formatAddress(host, port));
  const description = names.length > 0 ? names.join(', ') : formatAddress(host, port);
  return {
    description,
    matches(target) {
      const normal = normalizeAddress(target);
      if (normal === undefined) return false;
      if (listed.size > 0) return listed.has(normal);
      if (!wildcard) return normal === own;
      const { host: targetHost, port: targetPort } = parseAddress(normal);
      return targetPort === port && isLocalHost(targetHost);
    },
  };
}

function canonicalHost(host: string): string {
  return isIP(host) !== 0 ? ipaddr.process(host).toString() : host.toLowerCase();
}

/** Loopback (all of 127.0.0.0/8 answers locally), or an address of one of this host's interfaces. */
function isLocalHost(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 0) return false;
  if (ipaddr.parse(host).range() === 'loopback') return true;
  return Object.values(networkInterfaces()).some((addresses) =>
    (addresses ?? []).some(({ address }) => canonicalHost(address.split('%')[0]!) === host),
  );
}
