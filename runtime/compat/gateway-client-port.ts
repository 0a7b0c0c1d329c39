/**
 * GatewayWorker's GatewayClient on a gateway's internal port. A client id names its gateway by lanIp and internal
 * port, and GatewayClient dials exactly that address for a client's commands, so the internal port itself answers
 * GatewayProtocol: the first bytes of each connection tell the two apart. Ours opens with a frame whose fifth byte is
 * the Hello's tag (0x0a), or with a TLS record (0x16); GatewayProtocol's fifth byte is its command, 202
 * (CMD_GATEWAY_CLIENT_CONNECT) for a GatewayClient with a secret key. Anything else goes to GatewayProtocol too, so
 * a GatewayClient without a secret key is told so.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { Server as TlsServer } from 'node:tls';
import type { Registry } from 'prom-client';
import type { Logger } from '../observability/log.js';
import { compatMetrics, secretMatcher, type CompatMetrics, type RefusalReason } from './compat-metrics.js';
import { CompatArgumentError, runGatewayCommand, type CompatGateway } from './gateway-commands.js';
import { Cmd, CMD_NAMES, encodeAnswer, GatewayFrameReader, GatewayProtocolError, type GatewayFrame } from './gateway-protocol.js';
import { PhpUnserializeError } from './php-unserialize.js';

export interface GatewayWorkerCompatOptions {
  /** The compat secret (GatewayClient's $secretKey), never the cluster's shared secret. */
  secret: Buffer;
  maxFrameBytes: number;
  /** A connection that sends too little to tell its protocol, or does not authenticate, by then is closed. */
  handshakeTimeoutMs: number;
  log: Logger;
  registry: Registry;
}

const TLS_HANDSHAKE_RECORD = 0x16;
/** The first byte of an Envelope holding a Hello (field 1, length-delimited): every dialer of ours opens with it. */
const HELLO_TAG = 0x0a;
const SNIFFED_BYTES = 5;
const ACCEPT_BACKLOG = 4096;

/** Commands a GatewayClient never sends: the gateway's events, and what only a BusinessWorker does. */
const NOT_GATEWAY_CLIENT = new Set<number>([Cmd.ON_CONNECT, Cmd.ON_MESSAGE, Cmd.ON_CLOSE, Cmd.ON_WEBSOCKET_CONNECT, Cmd.WORKER_CONNECT, Cmd.PING]);

/**
 * A server in place of the internal one (`inner`, plain or mutual TLS, not listening itself): each connection goes
 * to `inner` as it came, or, when it speaks GatewayProtocol, to GatewayClient's commands against `gateway`.
 */
export function withGatewayWorkerCompat(inner: Server, gateway: CompatGateway, options: GatewayWorkerCompatOptions): Server {
  const metrics = compatMetrics(options.registry);
  const compatSockets = new Set<Socket>();
  const server = createServer((socket) => {
    let first = Buffer.alloc(0);
    const timer = setTimeout(() => {
      options.log.warn('internal connection closed: it sent too little to tell its protocol in time', { remote: remoteOf(socket) });
      socket.destroy();
    }, options.handshakeTimeoutMs);
    const sniff = (chunk: Buffer) => {
      first = Buffer.concat([first, chunk]);
      if (first.length < SNIFFED_BYTES) return;
      clearTimeout(timer);
      socket.off('data', sniff);
      socket.off('end', ended);
      socket.pause();
      socket.unshift(first);
      if (first[0] === TLS_HANDSHAKE_RECORD || first[4] === HELLO_TAG) {
        inner.emit('connection', socket);
        // A plain connection's reader is attached now; a TLS server reads the socket through its own handle.
        if (!(inner instanceof TlsServer)) socket.resume();
        return;
      }
      compatSockets.add(socket);
      socket.once('close', () => compatSockets.delete(socket));
      serveGatewayClient(socket, gateway, options, metrics);
    };
    const ended = () => {
      clearTimeout(timer);
      socket.destroy();
    };
    socket.on('data', sniff);
    socket.once('end', ended);
    socket.on('error', () => clearTimeout(timer));
  });
  // PHP opens a connection per call: a burst of them must wait in the accept queue, not be dropped (a dropped SYN is
  // retried after a second). The kernel caps it at net.core.somaxconn.
  const listen = server.listen.bind(server) as (...args: unknown[]) => Server;
  server.listen = ((port: number, host: string, callback: () => void) => listen(port, host, ACCEPT_BACKLOG, callback)) as Server['listen'];
  const close = server.close.bind(server);
  server.close = (callback?: (error?: Error) => void) => {
    for (const socket of compatSockets) socket.destroy();
    return close(callback);
  };
  return server;
}

/**
 * One GatewayClient connection: CMD_GATEWAY_CLIENT_CONNECT with the secret first (GatewayClient sends it before each
 * command), then its commands in order, queries answered in order. A wrong secret, a bad frame, a command that is not
 * GatewayClient's or arguments that cannot be used close the connection, logged and counted; nothing else is touched.
 */
export function serveGatewayClient(socket: Socket, gateway: CompatGateway, options: GatewayWorkerCompatOptions, metrics: CompatMetrics): void {
  const reader = new GatewayFrameReader(options.maxFrameBytes);
  const secretMatches = secretMatcher(options.secret);
  const remote = remoteOf(socket);
  let authorized = false;
  let closed = false;
  const refuse = (reason: RefusalReason, message: string, fields: Record<string, unknown> = {}) => {
    if (closed) return;
    closed = true;
    clearTimeout(timer);
    metrics.refused.inc({ reason });
    options.log.warn('GatewayWorker connection refused', { remote, reason, error: message, ...fields });
    socket.destroy();
  };
  const timer = setTimeout(() => refuse('timeout', 'no CMD_GATEWAY_CLIENT_CONNECT in time'), options.handshakeTimeoutMs);

  const take = (frame: GatewayFrame) => {
    const command = CMD_NAMES.get(frame.cmd) ?? String(frame.cmd);
    if (frame.cmd === Cmd.GATEWAY_CLIENT_CONNECT) {
      if (!secretMatches(secretKeyOf(frame.body))) return refuse('secret', 'wrong secret key (Gateway::$secretKey)');
      authorized = true;
      clearTimeout(timer);
      return;
    }
    if (!authorized) {
      return refuse('unauthenticated', `${command} before CMD_GATEWAY_CLIENT_CONNECT: set Gateway::$secretKey to the GatewayWorker compat secret`);
    }
    if (NOT_GATEWAY_CLIENT.has(frame.cmd)) return refuse('command', `${command} is not a GatewayClient command`);
    if (!CMD_NAMES.has(frame.cmd)) return refuse('command', `unknown command ${frame.cmd}`);
    let answer: Buffer | undefined;
    try {
      answer = runGatewayCommand(frame, gateway);
    } catch (error) {
      if (error instanceof CompatArgumentError || error instanceof PhpUnserializeError) return refuse('argument', `${command}: ${error.message}`);
      return refuse('internal', `${command} failed: ${(error as Error).message}`);
    }
    metrics.commands.inc({ command });
    if (answer && !socket.write(encodeAnswer(answer))) {
      // A client that asks without reading its answers is not read from until it does.
      socket.pause();
      socket.once('drain', () => socket.resume());
    }
  };

  socket.setNoDelay(true);
  socket.on('data', (chunk: Buffer) => {
    let frames: GatewayFrame[];
    try {
      frames = reader.push(chunk);
    } catch (error) {
      if (error instanceof GatewayProtocolError) return refuse(error.reason, error.message);
      throw error;
    }
    for (const frame of frames) {
      take(frame);
      if (closed) return;
    }
  });
  socket.on('error', () => {});
  socket.on('close', () => {
    closed = true;
    clearTimeout(timer);
  });
  socket.resume();
}

/** The secret in CMD_GATEWAY_CLIENT_CONNECT's body, `{"secret_key":"..."}`; '' when there is none. */
function secretKeyOf(body: Buffer): string {
  try {
    const value = JSON.parse(body.toString('utf8')) as { secret_key?: unknown } | null;
    return typeof value?.secret_key === 'string' ? value.secret_key : '';
  } catch {
    return '';
  }
}

function remoteOf(socket: Socket): string {
  return `${socket.remoteAddress}:${socket.remotePort}`;
}
