import { once } from 'node:events';
import { connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { decodeEnvelope, encodeEnvelope } from '../../runtime/wire/envelope-codec.js';
import { FrameDecoder, encodeFrame } from '../../runtime/wire/frame-codec.js';
import { plainSockets, type PeerSockets } from '../../runtime/wire/peer-sockets.js';
import type { Envelope } from '../../runtime/wire/types.js';

export interface RelayOptions {
  /** Where the attacker listens. */
  host: string;
  port?: number;
  /** The honest listener it forwards to. */
  toHost: string;
  toPort: number;
  /** Replaces the dialed address in the dialer's Hello. */
  rewriteTarget?: string;
  /** TLS on the dialer's side and on the listener's side (the attacker holding a valid cluster certificate). */
  front?: PeerSockets;
  back?: PeerSockets;
}

export interface Relay {
  address: string;
  port: number;
  /** Connections accepted so far. */
  connections: number;
  /** Every envelope that passed, by direction, for a test to see how far a handshake got. */
  fromDialer: Envelope[];
  fromListener: Envelope[];
  close(): void;
}

/**
 * The attacker of issue 11: accepts internal connections and forwards them byte for byte to an honest listener,
 * reading (and optionally rewriting) the handshake as it passes. It holds no secret.
 */
export async function startRelay(options: RelayOptions): Promise<Relay> {
  const { front = plainSockets, back = plainSockets } = options;
  const sockets = new Set<Socket>();
  const relay: Relay = { address: '', port: 0, connections: 0, fromDialer: [], fromListener: [], close: () => {} };
  const server: Server = front.createServer((inbound) => {
    relay.connections++;
    // From the attacker's own address, so the listener's log names it.
    const outbound = back === plainSockets
      ? connect({ host: options.toHost, port: options.toPort, localAddress: options.host })
      : back.connect(options.toHost, options.toPort);
    for (const socket of [inbound, outbound]) {
      sockets.add(socket);
      socket.on('error', () => {});
    }
    forward(inbound, outbound, relay.fromDialer, (envelope) => {
      if (envelope.hello && options.rewriteTarget !== undefined) envelope.hello.target = options.rewriteTarget;
    });
    forward(outbound, inbound, relay.fromListener, () => {});
    inbound.on('close', () => outbound.destroy());
    outbound.on('close', () => inbound.destroy());
  });
  server.listen(options.port ?? 0, options.host);
  await once(server, 'listening');
  relay.port = (server.address() as AddressInfo).port;
  relay.address = `${options.host}:${relay.port}`;
  relay.close = () => {
    server.close();
    for (const socket of sockets) socket.destroy();
  };
  return relay;
}

/** Frame by frame, so each envelope can be seen (and the Hello rewritten) on its way. */
function forward(from: Socket, to: Socket, seen: Envelope[], rewrite: (envelope: Envelope) => void): void {
  const decoder = new FrameDecoder(64 * 1024 * 1024);
  from.on('data', (chunk: Buffer) => {
    let frames: Buffer[];
    try {
      frames = decoder.push(chunk);
    } catch {
      to.destroy();
      return;
    }
    for (const frame of frames) {
      const envelope = decodeEnvelope(frame);
      seen.push(envelope);
      rewrite(envelope);
      to.write(encodeFrame(encodeEnvelope(envelope)));
    }
  });
}
