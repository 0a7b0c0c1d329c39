import { EventKind, type ClientEvent } from '../wire/types.js';
import type { Client } from './client.js';
import type { UpgradeRequest } from './client-transport.js';

/** Makes the events of a gateway's clients, numbered in one sequence: a message id is the gateway's address and it. */
export class ClientEvents {
  /** Starts from the clock, so a restarted gateway at the same address does not reuse message ids. */
  private sequence = Date.now() * 1000;

  /** A Connect or Close. */
  create(client: Client, kind: EventKind): ClientEvent {
    // Fields at their zero value are left out: protobufjs would encode them (an empty session, binary false).
    const event: ClientEvent = {
      kind,
      clientId: client.id,
      sequence: ++this.sequence,
      remoteAddress: client.remoteAddress,
      remotePort: client.remotePort,
    };
    if (client.sessionVersion > 0) {
      event.session = client.session;
      event.sessionVersion = client.sessionVersion;
    }
    return event;
  }

  message(client: Client, body: Buffer, binary: boolean): ClientEvent {
    const event = this.create(client, EventKind.Message);
    event.body = body;
    if (binary) event.binary = true;
    return event;
  }

  /** A WebSocketConnect: with `awaitsVerdict`, the upgrade completes only on a worker's verdict. */
  upgrade(client: Client, request: UpgradeRequest, awaitsVerdict: boolean): ClientEvent {
    const event = this.create(client, EventKind.WebSocketConnect);
    event.url = request.url;
    event.headers = request.headers;
    event.awaitsVerdict = awaitsVerdict;
    return event;
  }
}
