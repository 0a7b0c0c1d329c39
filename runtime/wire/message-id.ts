import { toNumber, type Uint64 } from './types.js';

/** `<gateway address>/<sequence>`: the id of one client event, the same on a redelivery. */
export function messageIdOf(gatewayAddress: string, sequence: Uint64 | undefined): string {
  return `${gatewayAddress}/${toNumber(sequence)}`;
}
