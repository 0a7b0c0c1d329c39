import type { MessageData, Session } from '../gateway-api/gateway-api.js';
import { messageIdOf } from '../wire/message-id.js';
import type { Uint64 } from '../wire/types.js';
import type { EventContext } from './handler.js';
import type { WorkerGatewayClient } from './worker-gateway-client.js';

/** The `ctx` a handler callback receives; methods live on the prototype so an event costs one small object. */
export class ClientEventContext implements EventContext {
  constructor(
    readonly clientId: string,
    public session: Session,
    readonly gateway: WorkerGatewayClient,
    readonly remoteAddress: string,
    readonly remotePort: number,
    private readonly gatewayAddress: string,
    private readonly sequence: Uint64 | undefined,
    readonly redelivery: boolean,
  ) {}

  /** Built on first use, as most handlers never ask. */
  get messageId(): string {
    return messageIdOf(this.gatewayAddress, this.sequence);
  }

  sendToCurrentClient(message: MessageData): Promise<void> {
    return this.gateway.sendToClientAt(this.gatewayAddress, this.clientId, message);
  }

  closeCurrentClient(message?: MessageData): Promise<void> {
    return this.gateway.closeClient(this.clientId, message);
  }

  destroyCurrentClient(): Promise<void> {
    return this.gateway.destroyClient(this.clientId);
  }
}
