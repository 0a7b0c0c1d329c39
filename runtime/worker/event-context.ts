import type { MessageData, Session } from '../gateway-api/gateway-api.js';
import { messageIdOf } from '../wire/message-id.js';
import { parseSession } from '../wire/session.js';
import type { Uint64 } from '../wire/types.js';
import type { EventContext } from './handler.js';
import type { WorkerGatewayClient } from './worker-gateway-client.js';

/** The `ctx` a handler callback receives; methods live on the prototype so an event costs one small object. */
export class ClientEventContext implements EventContext {
  private parsed: Session | undefined;
  /** Whether the callback read or replaced `session`: one that did neither left it as it was given. */
  sessionTouched = false;

  constructor(
    readonly clientId: string,
    /** The session the callback is given, as JSON text: parsed only when the callback reads it (most never do). */
    readonly givenSession: string,
    readonly gateway: WorkerGatewayClient,
    readonly remoteAddress: string,
    readonly remotePort: number,
    private readonly gatewayAddress: string,
    private readonly sequence: Uint64 | undefined,
    readonly redelivery: boolean,
  ) {}

  get session(): Session {
    if (!this.sessionTouched) {
      this.parsed = parseSession(this.givenSession);
      this.sessionTouched = true;
    }
    return this.parsed!;
  }

  set session(session: Session) {
    this.parsed = session;
    this.sessionTouched = true;
  }

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
