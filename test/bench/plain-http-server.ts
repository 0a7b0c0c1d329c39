/**
 * The HTTP reference: a bare `node:http` server that reads a request's body, parses it as JSON and answers
 * `{"result":null}`, as the HTTP API answers a send, with nothing else done. Usage: node plain-http-server.js <host> <port>
 */
import { createServer } from 'node:http';
import type { LogFields } from '../../runtime/observability/log-format.js';

const [host = '127.0.0.1', port = '7310'] = process.argv.slice(2);

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    try {
      JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      res.writeHead(400, { 'content-type': 'application/json; charset=utf-8' }).end('{"error":"body is not valid JSON"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify({ result: null }));
  });
});

// Says it is ready as the roles do, so the bench's supervisor waits on it the same way.
const ready: LogFields = { msg: 'ready', logEvent: 'ready', host, port: Number(port) };
server.listen(Number(port), host, () => process.stdout.write(JSON.stringify(ready) + '\n'));
// A clean exit, so a --cpu-prof profile gets written.
process.on('SIGTERM', () => process.exit(0));
