import { GatewayCommandError, GatewayTimeoutError } from '../gateway-api/gateway-errors.js';
import { ErrorCode } from '../wire/types.js';

/** The status of a call a gateway refused or failed, by its ErrorCode: the caller's mistakes are 4xx, the cluster's 502. */
const STATUS_OF_CODE: Readonly<Record<ErrorCode, number>> = {
  [ErrorCode.Unspecified]: 502,
  [ErrorCode.BadArgument]: 400,
  [ErrorCode.UnknownOp]: 502,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.TooLarge]: 502,
  [ErrorCode.Internal]: 502,
};

/** The HTTP status a Gateway API call that failed with `error` is answered with: 504 when a gateway was too slow, else by its code. */
export function callFailureStatus(error: unknown): number {
  if (error instanceof GatewayTimeoutError) return 504;
  if (error instanceof GatewayCommandError) return STATUS_OF_CODE[error.code] ?? 502;
  return 502;
}
