/**
 * Where the soak handler's records go when workers run as pods (GWC_SOAK_COLLECTOR): a TCP server on the host that
 * appends each line to a file of its connection in `dir` (the files readLedger reads, as the soak's workers write
 * them) and acknowledges it with a newline once written. The records of a worker on a node that loses its power are
 * then safe on the host, as a real handler's writes to a database would be.
 */
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export class RecordCollector {
  readonly dir = mkdtempSync(path.join(tmpdir(), 'gwc-records-'));
  private readonly sockets = new Set<Socket>();
  private connections = 0;

  private constructor(private readonly server: Server) {}

  /** Listens on `host` (where pods reach the host), on a port of the system's choosing. */
  static async start(host: string): Promise<RecordCollector> {
    const server = createServer();
    const collector = new RecordCollector(server);
    server.on('connection', (socket) => collector.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => resolve());
    });
    return collector;
  }

  /** host:port, for GWC_SOAK_COLLECTOR. */
  get address(): string {
    const { address, port } = this.server.address() as { address: string; port: number };
    return `${address}:${port}`;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private accept(socket: Socket): void {
    const file = path.join(this.dir, `handled-connection-${++this.connections}.log`);
    this.sockets.add(socket);
    let partial = '';
    socket.setNoDelay(true);
    socket.on('data', (data: Buffer) => {
      const text = partial + data.toString('utf8');
      const end = text.lastIndexOf('\n');
      partial = text.slice(end + 1);
      if (end < 0) return;
      const lines = text.slice(0, end + 1);
      appendFileSync(file, lines);
      socket.write('\n'.repeat(lines.split('\n').length - 1));
    });
    socket.on('error', () => {});
    socket.on('close', () => this.sockets.delete(socket));
  }
}
