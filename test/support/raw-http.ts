import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

/** A response as the bytes on the wire: header names keep the case the server wrote. */
export interface RawResponse {
  /** Everything received, until the server closed or `Content-Length` bytes of body arrived. */
  raw: Buffer;
  /** What the first read returned: the most a device that reads once (ESP-AT: 1024 bytes) can see. */
  firstRead: Buffer;
  statusLine: string;
  status: number;
  /** Header lines as sent (`Content-Length: 12`). */
  headerLines: string[];
  /** Lowercased name → value. */
  headers: Record<string, string>;
  body: Buffer;
}

export function parseRawResponse(raw: Buffer, firstRead: Buffer): RawResponse {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) throw new Error(`no header block in ${JSON.stringify(raw.toString('latin1').slice(0, 200))}`);
  const [statusLine = '', ...headerLines] = raw.subarray(0, end).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return {
    raw,
    firstRead,
    statusLine,
    status: Number(statusLine.split(' ')[1]),
    headerLines,
    headers,
    body: raw.subarray(end + 4),
  };
}

/**
 * Sends exactly `request` over a new TCP (or TLS) connection and collects the answer. A device's single
 * `read(fd, buf, 1024)` is emulated by the first `data` event (one read of the socket), cut to `firstReadMax`.
 */
export function rawRequest(
  port: number,
  request: string | Buffer,
  options: { firstReadMax?: number; tls?: { ca: Buffer }; host?: string } = {},
): Promise<RawResponse> {
  const host = options.host ?? '127.0.0.1';
  return new Promise((resolve, reject) => {
    const socket: Socket = options.tls
      ? tlsConnect({ port, host, ca: options.tls.ca, servername: 'localhost' })
      : connect({ port, host });
    const chunks: Buffer[] = [];
    let firstRead: Buffer | undefined;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      socket.destroy();
      const raw = Buffer.concat(chunks);
      try {
        resolve(parseRawResponse(raw, firstRead ?? Buffer.alloc(0)));
      } catch (err) {
        reject(err);
      }
    };
    socket.once(options.tls ? 'secureConnect' : 'connect', () => socket.write(request));
    socket.on('data', (chunk: Buffer) => {
      firstRead ??= chunk.subarray(0, options.firstReadMax ?? chunk.length);
      chunks.push(chunk);
      // Keep-alive answers end when Content-Length bytes of body are in.
      const raw = Buffer.concat(chunks);
      const end = raw.indexOf('\r\n\r\n');
      if (end < 0) return;
      const m = /\r\ncontent-length: *(\d+)/i.exec(raw.subarray(0, end).toString('latin1'));
      const isHead = request.toString().startsWith('HEAD ');
      const noBody = / (304|204) /.test(raw.subarray(0, 16).toString('latin1')) || isHead;
      if ((m && raw.length - end - 4 >= Number(m[1])) || (noBody && end >= 0)) finish();
    });
    socket.on('end', finish);
    socket.on('close', finish);
    socket.on('error', (err) => (done ? undefined : reject(err)));
    socket.setTimeout(10_000, () => {
      socket.destroy();
      if (!done) reject(new Error('raw request timed out'));
    });
  });
}

/** Joins header lines with CRLF and ends the block, as a device writes it. */
export const httpRequest = (lines: string[]) => `${lines.join('\r\n')}\r\n\r\n`;
