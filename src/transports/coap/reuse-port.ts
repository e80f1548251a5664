/**
 * Whether this Node's dgram has `reusePort` (SO_REUSEPORT; Node ≥ 22.12 and 23.1, not Node 20, which ignores the
 * option). Tested by binding two sockets to one port rather than by version number: a second bind succeeds only
 * where the option reaches the kernel.
 */
import dgram from 'node:dgram';

let supported: Promise<boolean> | undefined;

function bind(port: number): Promise<dgram.Socket> {
  // `reusePort` is absent from Node 20's types.
  const socket = dgram.createSocket({ type: 'udp4', reusePort: true } as dgram.SocketOptions);
  return new Promise((resolve, reject) => {
    socket.once('error', (err) => {
      socket.close();
      reject(err);
    });
    // exclusive: inside a cluster worker the probe must not go through the primary's shared handle.
    socket.bind({ port, address: '127.0.0.1', exclusive: true }, () => resolve(socket));
  });
}

export function reusePortSupported(): Promise<boolean> {
  supported ??= (async () => {
    const first = await bind(0);
    try {
      const second = await bind(first.address().port);
      second.close();
      return true;
    } catch {
      return false;
    } finally {
      first.close();
    }
  })().catch(() => false);
  return supported;
}

/** A UDP port free right now on `host` (the cluster primary picks one for `--coap-port 0` with reusePort). */
export function freeUdpPort(host: string): Promise<number> {
  const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ port: 0, address: host, exclusive: true }, () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}
