import type { Server, Socket } from 'node:net';
import { listen } from '../net/listen.js';
import type { Logger } from '../observability/log.js';
import type { CloseCause } from '../wire/close-cause.js';
import { FEATURE_PAGED_REPLIES } from '../wire/handshake.js';
import { PeerConnection, type OwnAddress, type PeerOptions } from '../wire/peer-connection.js';
import { plainSockets, type PeerSockets } from '../wire/peer-sockets.js';
import { ReplyTooLargeError, replyPages } from '../wire/reply-pages.js';
import { ErrorCode, Role, type Command, type Envelope, type Reply } from '../wire/types.js';
import type { EventDelivery } from './event-delivery.js';
import type { UpgradeVerdicts } from './upgrade-verdicts.js';

export interface InternalServerOptions {
  /** The address this gateway announces: a dialer must name it in its handshake. */
  ownAddress: OwnAddress;
  /** Our side of every link (role Gateway). */
  peer: PeerOptions;
  /** Plain TCP when unset, or mutual TLS. */
  sockets?: PeerSockets | undefined;
  delivery: EventDelivery;
  verdicts: UpgradeVerdicts;
  /** Carries out a command from a worker or API client; returns what its reply carries. */
  execute(command: Command): Omit<Reply, 'requestId'> | undefined;
  log: Logger;
  /** A second protocol on this port (GatewayWorker's, runtime/compat): a server that hands ours what it does not take. */
  sniff?: (peers: Server) => Server;
}

/**
 * The gateway's internal port: links from workers (events out; acks, verdicts, drains and commands in) and from API
 * clients (commands in, replies out, paged when large).
 */
export class InternalServer {
  private server: Server | undefined;
  private readonly peers = new Set<PeerConnection>();
  private nextWorkerKey = 0;

  constructor(private readonly options: InternalServerOptions) {}

  async listen(port: number, host: string): Promise<void> {
    this.server = this.createServer();
    await listen(this.server, port, host);
  }

  /** Closes every link and stops listening. */
  close(reason: string): void {
    for (const peer of this.peers) peer.close(reason);
    this.server?.close();
  }

  /**
   * The server on the internal port, and the one place its connections are accepted: a second protocol on this port
   * (told apart by its first bytes) is sniffed here, ahead of acceptPeer.
   */
  private createServer(): Server {
    const peers = (this.options.sockets ?? plainSockets).createServer((socket) => this.acceptPeer(socket));
    return this.options.sniff ? this.options.sniff(peers) : peers;
  }

  private acceptPeer(socket: Socket): void {
    const { delivery, log } = this.options;
    const conn = new PeerConnection(socket, { accept: this.options.ownAddress }, this.options.peer);
    this.peers.add(conn);
    let workerKey: string | undefined;
    conn.on('ready', () => {
      if (conn.remoteRole !== Role.Worker) return;
      workerKey = `${conn.remoteName}#${++this.nextWorkerKey}`;
      delivery.addWorker(workerKey, conn);
      log.info('worker connected', { logEvent: 'worker-connected', worker: conn.remoteName, workers: delivery.workerCount });
    });
    conn.on('envelope', (envelope: Envelope) => this.route(conn, workerKey, envelope));
    conn.on('close', (cause: CloseCause) => {
      this.peers.delete(conn);
      if (workerKey === undefined) return;
      const before = delivery.stats.redelivered;
      const died = delivery.removeWorker(workerKey);
      log.info('worker disconnected', {
        logEvent: 'worker-disconnected',
        worker: conn.remoteName,
        reason: cause.detail,
        died,
        workers: delivery.workerCount,
        redelivered: delivery.stats.redelivered - before,
      });
    });
  }

  /** Commands come from workers and API clients; the rest only from workers (role-messages.ts admits no other). */
  private route(conn: PeerConnection, workerKey: string | undefined, envelope: Envelope): void {
    if (envelope.command) this.onCommand(conn, envelope.command);
    else if (workerKey === undefined) return;
    else if (envelope.ack) this.options.delivery.acknowledged(workerKey, envelope.ack.sequences ?? []);
    else if (envelope.verdict) this.options.verdicts.received(envelope.verdict);
    else if (envelope.drain) this.drainWorker(conn, workerKey);
  }

  /** A stopping worker gets no new events; its clients move to other workers once it has finished theirs. */
  private drainWorker(conn: PeerConnection, workerKey: string): void {
    const { delivery } = this.options;
    delivery.drainWorker(workerKey);
    this.options.log.info('worker draining', { logEvent: 'worker-draining', worker: conn.remoteName, workers: delivery.workerCount });
    conn.send({ drain: {} });
  }

  private onCommand(conn: PeerConnection, command: Command): void {
    let reply;
    try {
      reply = this.options.execute(command);
    } catch (error) {
      this.options.log.error('command failed', { op: command.op, error });
      reply = { error: (error as Error).message, errorCode: ErrorCode.Internal };
    }
    if (!command.requestId) return;
    let pages;
    try {
      pages = replyPages({ requestId: command.requestId, ...reply }, this.options.peer.maxFrameBytes, conn.remoteFeatures.includes(FEATURE_PAGED_REPLIES));
    } catch (error) {
      pages = [{ requestId: command.requestId, error: (error as Error).message, errorCode: error instanceof ReplyTooLargeError ? ErrorCode.TooLarge : ErrorCode.Internal }];
    }
    for (const page of pages) conn.send({ reply: page });
  }
}
