import type { MessageData } from '../gateway-api/gateway-api.js';
import { GatewayClient } from '../gateway-api/gateway-client.js';
import { Op } from '../wire/types.js';
import type { SessionChanges } from './session-changes.js';

/** The Gateway API client of a worker: the public API (what handlers see as GatewayApi) and what the worker itself needs. */
export class WorkerGatewayClient extends GatewayClient {
  /** sendToClient for a client whose gateway is known already (a handler's current client): the id is not parsed. */
  public override sendToClientAt(gatewayAddress: string, clientId: string, message: MessageData): Promise<void> {
    return super.sendToClientAt(gatewayAddress, clientId, message);
  }

  /** What a handler callback did to its client's session (keys set, keys removed), merged into it at the gateway; resolves once applied. */
  writeSessionChanges(clientId: string, changes: SessionChanges): Promise<void> {
    const acknowledged = true;
    return this.toClients([clientId], { op: Op.UpdateSession, session: Buffer.from(JSON.stringify(changes.set)), removedSessionKeys: changes.removed }, acknowledged);
  }
}
