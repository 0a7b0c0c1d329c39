/**
 * How a Gateway API call fails, beyond a bad argument (a TypeError, before anything is sent): each kind its class, so
 * a caller (the HTTP API among them) can tell the caller's mistakes from the cluster's.
 */
import { ErrorCode } from '../wire/types.js';

/** A gateway refused or failed the command: `code` says why (gwc.proto's ErrorCode), the message in words. */
export class GatewayCommandError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** A connected gateway did not answer in time. */
export class GatewayTimeoutError extends Error {}

/** The connection to a gateway was lost before it answered: its clients went with it. */
export class GatewayLostError extends Error {
  constructor(address: string) {
    super(`connection to gateway ${address} lost before it answered`);
  }
}
