import { createServer } from 'node:http';
import type { Server } from 'node:net';
import type { Registry } from 'prom-client';
import { listen } from '../net/listen.js';
import type { Logger } from './log.js';

export interface HealthServerOptions {
  host: string;
  port: number;
  registry: Registry;
  /** /readyz answers 200 while this returns true, 503 otherwise. */
  isReady: () => boolean;
  log: Logger;
}

/** Serves /metrics, /healthz and /readyz; resolves once listening. */
export async function startHealthServer(options: HealthServerOptions): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') return void res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    if (path === '/readyz') {
      const ready = options.isReady();
      return void res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' }).end(ready ? 'ready\n' : 'not ready\n');
    }
    if (path === '/metrics') {
      options.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': options.registry.contentType }).end(text),
        (error: Error) => res.writeHead(500).end(error.message),
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  });
  await listen(server, options.port, options.host);
  options.log.info('health endpoints listening', { logEvent: 'health-listening', host: options.host, port: options.port });
  return server;
}
