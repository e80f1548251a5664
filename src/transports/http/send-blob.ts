import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { recyclerOf, type ByteRange } from '../../core/blobs/blob-store.js';

export interface BlobResponse {
  size: number;
  sha256: string;
  contentType?: string;
  /** Extra headers every answer carries (x-MD5 for ESP devices, Content-Disposition...). */
  headers?: Record<string, string>;
  open(range?: ByteRange): Promise<Readable>;
  /**
   * When set, the body is not streamed by Node: the answer carries `X-Accel-Redirect: <path>` and the
   * nginx in front sends the file (docs/deployment.md).
   */
  accelRedirect?: string;
  /**
   * Whether a `Range` without `If-Range` may be served from this image. False when the URL does not name one
   * image (a device path answering "the current release"): a range that does not start at byte 0 is ignored
   * and the whole image sent with 200, so a resume can never continue one image with the tail of another.
   * Default true (a versioned URL).
   */
  rangeWithoutIfRange?: boolean;
}

export type SendOutcome = 'not-modified' | 'head' | 'range-not-satisfiable' | 'completed' | 'aborted';

/** Parses a single `bytes=` range (RFC 9110 §14.1.2); multiple ranges are answered with the whole image. */
export function parseRange(header: string | undefined, size: number): ByteRange | 'invalid' | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return header.includes(',') ? undefined : 'invalid';
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'invalid';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return 'invalid';
  return { start, end };
}

/**
 * Whether `Range` applies (RFC 9110 §13.1.5): `If-Range` must name this image's strong ETag; an HTTP-date never
 * matches (no Last-Modified is sent, so a date is no strong validator). Without `If-Range` the caller decides.
 */
function rangeApplies(req: IncomingMessage, etag: string): boolean {
  const ifRange = req.headers['if-range'];
  return ifRange === undefined || String(ifRange).trim() === etag;
}

/**
 * Streams `stream` into `res` with `pipe`, not `stream.pipeline`: pipeline gives every response its own
 * AbortController and aborts it (a DOMException) when done, which cost ~140 µs of CPU per 1 MiB download here
 * (docs/benchmarks.md). `completed` once the last byte is handed to the socket (`finish`); `aborted` when the
 * client goes first or the image cannot be read, and then both ends are destroyed, as pipeline would.
 * A stream that recycles its chunks gets each back once the socket has written it (the write callback).
 */
function pump(stream: Readable, res: ServerResponse): Promise<'completed' | 'aborted'> {
  const recycle = recyclerOf(stream);
  return new Promise((resolve) => {
    let settled = false;
    const fail = () => {
      if (settled) return;
      settled = true;
      stream.unpipe(res);
      stream.destroy();
      res.destroy();
      resolve('aborted');
    };
    res.once('finish', () => {
      if (settled) return;
      settled = true;
      resolve('completed');
    });
    res.once('close', () => {
      if (!res.writableFinished) fail();
    });
    // Kept after settling: an error after the end must not become an unhandled 'error' event.
    res.on('error', fail);
    stream.on('error', fail);
    if (!recycle) {
      stream.pipe(res);
      return;
    }
    // What pipe() does (pause at the high-water mark, resume on drain), with a write callback per chunk.
    stream.on('data', (chunk: Buffer) => {
      const written = res.write(chunk, (err) => {
        if (!err) recycle(chunk);
      });
      if (!written) stream.pause();
    });
    res.on('drain', () => stream.resume());
    stream.once('end', () => res.end());
  });
}

/**
 * Sends an image the way strict device clients need it: exact Content-Length, never chunked, never
 * compressed, headers and first body bytes as early as possible. Handles HEAD, Range (206/416), If-Range and
 * If-None-Match (304) with the sha256 as strong ETag, which every answer carries. One header object per
 * answer, filled in the order the headers go out.
 */
export async function sendBlob(
  req: IncomingMessage,
  res: ServerResponse,
  blob: BlobResponse,
): Promise<SendOutcome> {
  const etag = `"${blob.sha256}"`;
  const headers: Record<string, string | number> = { ETag: etag, 'Accept-Ranges': 'bytes' };
  if (blob.headers) Object.assign(headers, blob.headers);
  const inm = req.headers['if-none-match'];
  if (inm && (inm === '*' || inm.split(',').some((t) => t.trim().replace(/^W\//, '') === etag))) {
    res.writeHead(304, headers);
    res.end();
    return 'not-modified';
  }
  let range = rangeApplies(req, etag) ? parseRange(req.headers.range, blob.size) : undefined;
  const blind = req.headers['if-range'] === undefined && blob.rangeWithoutIfRange === false;
  if (blind && range !== undefined && (range === 'invalid' || range.start > 0)) range = undefined;
  if (range === 'invalid') {
    headers['Content-Range'] = `bytes */${blob.size}`;
    headers['Content-Length'] = 0;
    res.writeHead(416, headers);
    res.end();
    return 'range-not-satisfiable';
  }
  headers['Content-Type'] = blob.contentType ?? 'application/octet-stream';
  if (blob.accelRedirect && req.method !== 'HEAD') {
    // nginx computes Content-Length and honours Range itself from the internal location. The answer states its
    // own empty body (`Content-Length: 0`): a chunked empty body makes nginx close its upstream connection after
    // each redirect (ngx_http_proxy_process_header keeps it only for a known-length body), which cost a TCP
    // connection per download (docs/benchmarks.md). nginx does not pass this header on to the device.
    headers['Content-Length'] = 0;
    headers['X-Accel-Redirect'] = blob.accelRedirect;
    res.writeHead(200, headers);
    res.end();
    return 'completed';
  }
  headers['Content-Length'] = range ? range.end - range.start + 1 : blob.size;
  if (range) headers['Content-Range'] = `bytes ${range.start}-${range.end}/${blob.size}`;
  const status = range ? 206 : 200;
  if (req.method === 'HEAD') {
    res.writeHead(status, headers);
    res.end();
    return 'head';
  }
  const stream = await blob.open(range);
  res.writeHead(status, headers);
  return pump(stream, res);
}
