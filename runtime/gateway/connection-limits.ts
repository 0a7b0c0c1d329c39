/**
 * How many client connections a gateway takes, from its open-file limit: every connection is a file descriptor,
 * and a process out of them can accept nothing at all, not even a health check or a worker. A share of the
 * limit is kept back for those (internal links, the health server, files), and clients past the limit are
 * refused with 503 while the process still has descriptors to say so.
 */
export interface ConnectionLimits {
  /** Clients served at once; the next ones are refused (503, or closed on the TCP protocols). */
  clients: number;
  /** Sockets the client listener keeps open at once, counting upgrades still in progress: beyond, closed at once. */
  sockets: number | undefined;
  /** Set when the requested limit was lowered to fit the open-file limit. */
  lowered?: { requested: number; fileLimit: number };
}

/** Used when the open-file limit cannot be read. */
export const FALLBACK_MAX_CONNECTIONS = 100_000;

/** Descriptors kept back for everything that is not a client: a tenth of the limit, at least 64, at most 1024. */
export function reservedDescriptors(fileLimit: number): number {
  return Math.min(1024, Math.max(64, Math.floor(fileLimit / 10)));
}

/** The smallest open-file limit at which a gateway takes `clients` clients by default. */
export function fileLimitFor(clients: number): number {
  let limit = clients + 64;
  while (limit - reservedDescriptors(limit) < clients) limit++;
  return limit;
}

export function connectionLimits(requested: number | undefined, fileLimit: number | undefined): ConnectionLimits {
  if (fileLimit === undefined || fileLimit === Infinity) return { clients: requested ?? FALLBACK_MAX_CONNECTIONS, sockets: undefined };
  const reserved = reservedDescriptors(fileLimit);
  const fits = Math.max(1, fileLimit - reserved);
  const clients = requested === undefined ? fits : Math.min(requested, fits);
  // Half of the reserve may go to connections that are still upgrading or being refused; the other half is never theirs.
  const limits: ConnectionLimits = { clients, sockets: clients + Math.floor(reserved / 2) };
  if (requested !== undefined && requested > fits) limits.lowered = { requested, fileLimit };
  return limits;
}
