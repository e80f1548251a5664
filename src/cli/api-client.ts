import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';

export interface ClientOptions {
  server: string;
  token?: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface UploadPart {
  name: string;
  /** A file to stream, or a plain field value. */
  path?: string;
  value?: string;
  filename?: string;
}

/** A thin client for the management API; the CLI has no logic of its own beyond formatting. */
export function createApiClient({ server, token }: ClientOptions) {
  const base = server.replace(/\/+$/, '');
  const headers = (): Record<string, string> => (token ? { Authorization: `Bearer ${token}` } : {});

  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { ...headers(), ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    const data = text ? (JSON.parse(text) as unknown) : undefined;
    if (!response.ok) {
      const err = (data ?? {}) as { code?: string; message?: string };
      throw new ApiError(response.status, err.code ?? 'HTTP_ERROR', err.message ?? `HTTP ${response.status}`);
    }
    return data as T;
  }

  /**
   * Streams a multipart/form-data body with an exact Content-Length, reporting progress; no file is ever
   * loaded whole into memory.
   */
  async function upload<T>(
    path: string,
    parts: UploadPart[],
    onProgress?: (sent: number, total: number) => void,
  ): Promise<T> {
    const boundary = `----updraft${randomBytes(12).toString('hex')}`;
    const pieces: (Buffer | { path: string; size: number })[] = [];
    for (const part of parts) {
      const disposition = part.path
        ? `form-data; name="${part.name}"; filename="${part.filename ?? part.name}"`
        : `form-data; name="${part.name}"`;
      const type = part.path ? 'Content-Type: application/octet-stream\r\n' : '';
      pieces.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n${type}\r\n`));
      if (part.path) pieces.push({ path: part.path, size: (await stat(part.path)).size });
      else pieces.push(Buffer.from(part.value ?? ''));
      pieces.push(Buffer.from('\r\n'));
    }
    pieces.push(Buffer.from(`--${boundary}--\r\n`));
    const total = pieces.reduce((n, p) => n + (Buffer.isBuffer(p) ? p.length : p.size), 0);

    const url = new URL(`${base}${path}`);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<T>((resolve, reject) => {
      const req = send(url, {
        method: 'POST',
        headers: {
          ...headers(),
          'Content-Type': `multipart/form-data; boundary=${boundary}`,
          'Content-Length': total,
        },
      });
      req.on('error', reject);
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const data = (text ? JSON.parse(text) : {}) as T & { code?: string; message?: string };
          if ((res.statusCode ?? 500) >= 400) {
            reject(
              new ApiError(
                res.statusCode ?? 500,
                data.code ?? 'HTTP_ERROR',
                data.message ?? `HTTP ${res.statusCode}`,
              ),
            );
          } else resolve(data);
        });
      });
      let sent = 0;
      (async () => {
        for (const piece of pieces) {
          const source = Buffer.isBuffer(piece)
            ? [piece]
            : createReadStream(piece.path, { highWaterMark: 1 << 20 });
          for await (const chunk of source as AsyncIterable<Buffer>) {
            sent += chunk.length;
            onProgress?.(sent, total);
            if (!req.write(chunk)) await new Promise((r) => req.once('drain', r));
          }
        }
        req.end();
      })().catch((err) => req.destroy(err as Error));
    });
  }

  /**
   * Streams a file to `dest` (through `<dest>.part`, renamed when complete), reporting progress, and checks
   * its sha256 against the server's ETag (the image's digest) before keeping it.
   */
  async function download(
    path: string,
    dest: string,
    onProgress?: (received: number, total: number) => void,
  ): Promise<{ size: number; sha256: string }> {
    const response = await fetch(`${base}${path}`, { headers: headers() });
    if (!response.ok || !response.body) {
      const err = (await response.json().catch(() => ({}))) as { code?: string; message?: string };
      throw new ApiError(response.status, err.code ?? 'HTTP_ERROR', err.message ?? `HTTP ${response.status}`);
    }
    const total = Number(response.headers.get('content-length') ?? 0);
    const hash = createHash('sha256');
    let received = 0;
    const count = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        received += chunk.length;
        hash.update(chunk);
        onProgress?.(received, Math.max(total, received));
        done(null, chunk);
      },
    });
    const part = `${dest}.part`;
    try {
      await pipeline(
        Readable.fromWeb(response.body as unknown as WebReadableStream<Uint8Array>),
        count,
        createWriteStream(part),
      );
      const sha256 = hash.digest('hex');
      const etag = response.headers.get('etag')?.replace(/"/g, '');
      if (etag && /^[0-9a-f]{64}$/.test(etag) && etag !== sha256) {
        throw new ApiError(0, 'DIGEST_MISMATCH', `received ${sha256}, the server announced ${etag}`);
      }
      await rename(part, dest);
      return { size: received, sha256 };
    } catch (err) {
      await rm(part, { force: true });
      throw err;
    }
  }

  return { call, upload, download, base };
}

export type ApiClient = ReturnType<typeof createApiClient>;
