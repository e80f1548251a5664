import { connect, type Socket } from 'node:net';

/**
 * Holds `connections` HTTP downloads in flight and reads them slowly (a trickle every `readEveryMs`), so the
 * server has every one of them open at once, backpressured, for `holdMs`. Used for the memory case: what matters
 * is the server's RSS while the downloads are pending, not their speed.
 */
export async function holdSlowDownloads(o: {
  port: number;
  path: string;
  headers: Record<string, string>;
  connections: number;
  holdMs: number;
  readEveryMs?: number;
  onAllStarted?: () => void;
}): Promise<{ started: number; bytes: number; statusOk: number }> {
  const request =
    `GET ${o.path} HTTP/1.1\r\nHost: 127.0.0.1:${o.port}\r\n` +
    Object.entries(o.headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('') +
    '\r\n';
  const sockets: Socket[] = [];
  let bytes = 0;
  let statusOk = 0;
  let started = 0;
  await Promise.all(
    Array.from(
      { length: o.connections },
      () =>
        new Promise<void>((resolve) => {
          const socket = connect({ port: o.port, host: '127.0.0.1' });
          sockets.push(socket);
          let first = true;
          socket.on('data', (chunk: Buffer) => {
            bytes += chunk.length;
            if (first) {
              first = false;
              started++;
              if (/^HTTP\/1\.1 200/.test(chunk.toString('latin1', 0, 16))) statusOk++;
              resolve();
            }
            // Paused: the kernel buffers fill and the server's writes back up; the timer below lets a little in.
            socket.pause();
          });
          socket.on('error', () => resolve());
          socket.on('connect', () => socket.write(request));
        }),
    ),
  );
  o.onAllStarted?.();
  const trickle = setInterval(() => {
    for (const s of sockets) {
      s.resume();
      setImmediate(() => s.pause());
    }
  }, o.readEveryMs ?? 500);
  await new Promise((r) => setTimeout(r, o.holdMs));
  clearInterval(trickle);
  for (const s of sockets) s.destroy();
  return { started, bytes, statusOk };
}
