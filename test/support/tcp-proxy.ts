import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';

/**
 * A loopback TCP relay in front of a real server, to make that server "go away" for one client without stopping
 * it for the other test files that share it: `cut()` resets every relayed connection and stops listening
 * (connection refused), `restore()` listens on the same port again.
 */
export async function startTcpProxy(target: { host: string; port: number }) {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  let relayed = 0;

  async function listen(): Promise<void> {
    const s = createServer((client) => {
      const upstream = createConnection(target);
      sockets.add(client);
      sockets.add(upstream);
      client.on('data', (chunk: Buffer) => (relayed += chunk.length));
      upstream.on('data', (chunk: Buffer) => (relayed += chunk.length));
      client.pipe(upstream).pipe(client);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
    });
    s.listen(port, '127.0.0.1');
    await once(s, 'listening');
    port = (s.address() as { port: number }).port;
    server = s;
  }

  await listen();
  return {
    get port() {
      return port;
    },
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    /** Bytes relayed either way so far. */
    relayed: () => relayed,
    async cut(): Promise<void> {
      const s = server;
      server = undefined;
      for (const socket of sockets) socket.resetAndDestroy();
      sockets.clear();
      if (s) await new Promise<void>((r) => s.close(() => r()));
    },
    restore: listen,
    close(): Promise<void> {
      return this.cut();
    },
  };
}
