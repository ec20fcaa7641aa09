/**
 * The TCP listener: accepts connections, gives each a Connection, and closes them all on stop.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Instance } from '../commands/index.js';
import { Connection } from './connection.js';

export class WireServer {
  private readonly server: Server;
  private readonly open = new Set<Connection>();
  private nextConnectionId = 1;

  constructor(private readonly instance: Instance) {
    this.server = createServer((socket) => this.accept(socket));
  }

  listen(port: number, host: string): Promise<{ port: number; address: string }> {
    return new Promise((resolve, reject) => {
      const onError = (e: Error): void => reject(e);
      this.server.once('error', onError);
      this.server.listen({ port, host }, () => {
        this.server.off('error', onError);
        const addr = this.server.address();
        if (addr === null || typeof addr === 'string') return reject(new Error('listener has no TCP address'));
        resolve({ port: addr.port, address: addr.address });
      });
    });
  }

  private accept(socket: Socket): void {
    const id = this.nextConnectionId++;
    const connection = new Connection(socket, this.instance, id, (c) => {
      this.open.delete(c);
      this.instance.connections.delete(c.info.id);
    });
    this.open.add(connection);
    this.instance.connections.set(id, connection.info);
    this.instance.totalConnectionsCreated++;
  }

  get connectionCount(): number {
    return this.open.size;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const c of [...this.open]) c.close();
    await closed;
  }
}
