import { createServer as createHttpServer, type RequestListener } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Server } from 'node:net';
import type { Server as TlsServer } from 'node:tls';
import type { Registry } from 'prom-client';
import type { Logger } from '../observability/log.js';
import { reportHandshakeFailures } from '../tls/handshake-failures.js';
import type { TlsFiles } from '../tls/tls-material.js';
import { TlsReloader, tlsReloadCounter } from '../tls/tls-reloader.js';
import type { ClientSink } from './client-transport.js';
import { staticFileHandler } from './static-files.js';
import { createTcpListener } from './client-protocols/tcp-listener.js';
import { attachWebSocketListener, type WebSocketListenerOptions } from './client-protocols/websocket-listener.js';

export interface ClientServerOptions extends WebSocketListenerOptions {
  protocol: 'websocket' | 'text' | 'frame';
  webRoot?: string | undefined;
  /** Certificate files: with them, https + wss:// for websocket and TLS for text and frame, reloaded on change. */
  tls?: TlsFiles | undefined;
  /** A connection that has not finished its TLS handshake and HTTP request by then is closed. */
  handshakeTimeoutMs: number;
  log: Logger;
  registry: Registry;
}

/** The server clients connect to (not yet listening): HTTP + WebSocket, or raw TCP; over TLS when given files. */
export function createClientServer(options: ClientServerOptions, sink: ClientSink): Server {
  if (!options.tls) return plainServer(options, sink);
  const reloads = tlsReloadCounter(options.registry, 'gwc_gateway_tls_reloads_total', 'Reloads of the client TLS certificate files, by result');
  const reloader = new TlsReloader(options.tls, { log: options.log.child({ tls: 'client' }), reloads });
  const server = tlsServer(options, sink, reloader.material);
  reportHandshakeFailures(server, (reason, remote) => sink.rejected(`TLS handshake failed: ${reason}`, remote));
  // New connections get the new certificate; the ones already open keep theirs.
  reloader.start((material) => server.setSecureContext(material));
  server.once('close', () => reloader.stop());
  return server;
}

function plainServer(options: ClientServerOptions, sink: ClientSink): Server {
  if (options.protocol !== 'websocket') return createTcpListener(options.protocol, sink, options.maxPayload);
  const http = createHttpServer(httpTimeouts(options.handshakeTimeoutMs), staticFiles(options));
  attachWebSocketListener(http, sink, options);
  return http;
}

function tlsServer(options: ClientServerOptions, sink: ClientSink, material: { cert: string | Buffer; key: string | Buffer }): TlsServer {
  const secure = { cert: material.cert, key: material.key, handshakeTimeout: options.handshakeTimeoutMs };
  if (options.protocol !== 'websocket') return createTcpListener(options.protocol, sink, options.maxPayload, secure);
  const https = createHttpsServer({ ...secure, ...httpTimeouts(options.handshakeTimeoutMs) }, staticFiles(options));
  attachWebSocketListener(https, sink, options);
  return https;
}

/** A connection that stays silent, or stops half-way through its request (an upgrade, say), is answered 408 and closed. */
function httpTimeouts(timeoutMs: number) {
  return { headersTimeout: timeoutMs, requestTimeout: timeoutMs, connectionsCheckingInterval: Math.min(1000, timeoutMs / 2) };
}

function staticFiles(options: ClientServerOptions): RequestListener {
  const serveStatic = staticFileHandler(options.webRoot);
  return (req, res) => void serveStatic(req, res);
}
