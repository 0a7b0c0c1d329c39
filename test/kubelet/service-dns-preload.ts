/**
 * Test-only fake of cluster DNS, loaded into every process the process kubelet runs with
 * `NODE_OPTIONS=--import=<this compiled file>`.
 *
 * There is no DNS server that getaddrinfo could be pointed at, so this preload replaces `dns.lookup` and
 * `dns.promises.lookup` (node's net, http and fetch read `dns.lookup` when they connect, so they all go through it):
 * names are answered as a pod's resolver would, with its search domains and ndots:5, from
 * - the extra hosts of the pod (its own hostname, hostAliases), then
 * - the kubelet's hosts-style file of Service names (`<svc>.<ns>.svc.cluster.local` → ready endpoint IPs,
 *   `<pod>.<svc>.<ns>.svc.cluster.local` for headless Services), re-read whenever it changes;
 * names under `.svc` or `.cluster.local` that are not there fail with ENOTFOUND, and any other name goes to the
 * original lookup. A name with several addresses answers them in turn (rotating the list).
 *
 * Only Node processes are run by the process kubelet, so patching Node's resolver is enough.
 */
import dns from 'node:dns';
import { statSync, readFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { CLUSTER_DOMAIN, DNS_EXTRA_HOSTS_ENV, DNS_HOSTS_FILE_ENV, DNS_SEARCH_ENV, NDOTS } from './service-dns-names.js';

type Table = Map<string, string[]>;

const hostsFile = process.env[DNS_HOSTS_FILE_ENV];
const search = (process.env[DNS_SEARCH_ENV] ?? '').split(/\s+/).filter(Boolean).map((domain) => domain.toLowerCase());
const extraHosts = parseExtraHosts(process.env[DNS_EXTRA_HOSTS_ENV]);
const turns = new Map<string, number>();
let table: Table = new Map();
let tableStamp = '';

function parseExtraHosts(json: string | undefined): Table {
  const hosts: Table = new Map();
  if (!json) return hosts;
  try {
    for (const [name, ips] of Object.entries(JSON.parse(json) as Record<string, string[]>)) hosts.set(name.toLowerCase(), ips);
  } catch {
    // a broken variable answers nothing
  }
  return hosts;
}

/** Parses `<ip> <name> [<name>...]` lines; `#` starts a comment. */
export function parseHostsFile(text: string): Table {
  const parsed: Table = new Map();
  for (const line of text.split('\n')) {
    const [ip, ...names] = line.replace(/#.*/, '').trim().split(/\s+/);
    if (!ip || names.length === 0) continue;
    for (const name of names) {
      const key = name.toLowerCase();
      const ips = parsed.get(key) ?? [];
      if (!ips.includes(ip)) ips.push(ip);
      parsed.set(key, ips);
    }
  }
  return parsed;
}

function currentTable(): Table {
  if (!hostsFile) return table;
  try {
    const stat = statSync(hostsFile);
    const stamp = `${stat.ino}:${stat.mtimeMs}:${stat.size}`;
    if (stamp !== tableStamp) {
      table = parseHostsFile(readFileSync(hostsFile, 'utf8'));
      tableStamp = stamp;
    }
  } catch {
    // not written yet: keep what we had
  }
  return table;
}

/** The addresses for `hostname`, 'not-found' when the cluster domain has no such name, undefined when not ours. */
export function resolveClusterName(hostname: string): string[] | 'not-found' | undefined {
  let name = hostname.toLowerCase();
  const absolute = name.endsWith('.');
  if (absolute) name = name.slice(0, -1);
  const own = extraHosts.get(name);
  if (own && own.length > 0) return own;
  const dots = name.split('.').length - 1;
  const suffixed = absolute ? [] : search.map((domain) => `${name}.${domain}`);
  const candidates = absolute ? [name] : dots >= NDOTS ? [name, ...suffixed] : [...suffixed, name];
  const names = currentTable();
  for (const candidate of candidates) {
    const ips = names.get(candidate);
    if (ips && ips.length > 0) return ips;
  }
  if (name.endsWith('.svc') || name === CLUSTER_DOMAIN || name.endsWith(`.${CLUSTER_DOMAIN}`)) return 'not-found';
  return undefined;
}

function notFound(hostname: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', errno: -3008, syscall: 'getaddrinfo', hostname });
}

interface LookupOptionsLike {
  family?: number | string;
  all?: boolean;
}

/** The answer for a lookup that is ours, or undefined to pass it to the original lookup. */
function answer(hostname: string, options: LookupOptionsLike): { address: string; family: number }[] | Error | undefined {
  if (typeof hostname !== 'string' || hostname === '') return undefined;
  const found = resolveClusterName(hostname);
  if (found === undefined) return undefined;
  const family = options.family === 'IPv6' ? 6 : options.family === 'IPv4' ? 4 : Number(options.family ?? 0);
  const addresses = found === 'not-found' ? [] : (family === 6 ? [] : found).map((address) => ({ address, family: 4 }));
  if (addresses.length === 0) return notFound(hostname);
  // Like cluster DNS, rotate the answers; net's happy-eyeballs asks for all of them and tries the first.
  const turn = turns.get(hostname) ?? 0;
  turns.set(hostname, turn + 1);
  const rotated = [...addresses.slice(turn % addresses.length), ...addresses.slice(0, turn % addresses.length)];
  return options.all ? rotated : [rotated[0]!];
}

function normalizeOptions(options: unknown): LookupOptionsLike {
  if (typeof options === 'number') return { family: options };
  if (options && typeof options === 'object') return options as LookupOptionsLike;
  return {};
}

const originalLookup = dns.lookup;
const originalPromisesLookup = dns.promises.lookup;

function patchedLookup(this: unknown, hostname: string, options: unknown, callback?: unknown): void {
  const cb = (typeof options === 'function' ? options : callback) as (error: Error | null, address?: unknown, family?: number) => void;
  const opts = normalizeOptions(typeof options === 'function' ? undefined : options);
  const result = answer(hostname, opts);
  if (result === undefined) {
    (originalLookup as (...args: unknown[]) => void).apply(this, [hostname, ...(typeof options === 'function' ? [] : [options]), cb]);
    return;
  }
  process.nextTick(() => {
    if (result instanceof Error) cb(result);
    else if (opts.all) cb(null, result);
    else cb(null, result[0]!.address, result[0]!.family);
  });
}

async function patchedPromisesLookup(this: unknown, hostname: string, options?: unknown): Promise<unknown> {
  const opts = normalizeOptions(options);
  const result = answer(hostname, opts);
  if (result === undefined) return (originalPromisesLookup as (...args: unknown[]) => Promise<unknown>).apply(this, [hostname, options]);
  if (result instanceof Error) throw result;
  return opts.all ? result : result[0];
}

if (hostsFile || extraHosts.size > 0) {
  (dns as { lookup: unknown }).lookup = patchedLookup;
  (dns.promises as { lookup: unknown }).lookup = patchedPromisesLookup;
  syncBuiltinESMExports();
}
