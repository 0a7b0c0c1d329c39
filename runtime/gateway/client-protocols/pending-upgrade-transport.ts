import type { ClientTransport } from '../client-transport.js';
import type { CloseFrame } from '../disconnects.js';

/**
 * Stands in for a WebSocket whose upgrade waits for a worker's verdict: the client already exists (so
 * onConnect and onWebSocketConnect can bind a uid, join groups, send), but nothing can reach it yet. Sends are
 * held, as is a close, and handed to the real transport once the upgrade completes.
 */
export class PendingUpgradeTransport implements ClientTransport {
  private held: Array<{ data: Buffer; binary: boolean }> = [];
  private heldBytes = 0;
  private closeRequest: CloseFrame | undefined;
  private destroyed = false;
  private paused = false;

  constructor(
    readonly remoteAddress: string,
    readonly remotePort: number,
  ) {}

  sendMessage(data: Buffer, binary: boolean): void {
    this.held.push({ data, binary });
    this.heldBytes += data.length;
  }

  get bufferedBytes(): number {
    return this.heldBytes;
  }

  heartbeat(): void {}

  /** No ping can come before the upgrade completes. */
  pong(): void {}

  closeWith(frame: CloseFrame): void {
    this.closeRequest ??= frame;
  }

  destroy(): void {
    this.destroyed = true;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  /** Replays onto the upgraded connection what happened while it waited. */
  handOver(to: ClientTransport): void {
    if (this.destroyed) return to.destroy();
    for (const { data, binary } of this.held) to.sendMessage(data, binary);
    this.held = [];
    this.heldBytes = 0;
    if (this.paused) to.pause();
    if (this.closeRequest) to.closeWith(this.closeRequest);
  }
}
