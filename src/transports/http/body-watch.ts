import type { FastifyInstance, FastifyRequest } from 'fastify';

/** The error a stalled body ends with: 408, `REQUEST_TIMEOUT` (RFC 9110 §15.5.9). */
export class BodyTimeoutError extends Error {
  readonly statusCode = 408;
  readonly code = 'REQUEST_TIMEOUT';
  constructor(idleMs: number) {
    super(`no byte of the request body arrived for ${idleMs} ms`);
  }
}

interface Watch {
  signal: AbortSignal;
  done(): void;
}

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * Aborted when the body stalls (no byte for `bodyIdleTimeoutMs`). Handlers that stream the body themselves
     * (multipart uploads) pass it to the blob store, so the temporary file and its descriptor go at once.
     */
    bodySignal: AbortSignal;
    /** Called by a handler that has read all of the body it needs; other routes stop watching before the handler. */
    bodyRead(): void;
  }
}

const idle = new AbortController().signal;

/**
 * Times out request bodies that stop arriving (slowloris uploads, a multipart body that never sends its closing
 * boundary): fastify sets no request timeout, and Node's `requestTimeout` would cap the whole upload instead of
 * its silences. Progress is the socket's `bytesRead`, polled a few times per period, so the body stream itself
 * is never touched (a `data` listener would change its mode). On a stall the request's signal is aborted so its
 * handler cleans up and answers 408; if nothing answers within a second, 408 is written here and the
 * connection closed.
 */
export function registerBodyWatch(app: FastifyInstance, idleMs: number): void {
  const watches = new WeakMap<FastifyRequest, Watch>();
  app.decorateRequest('bodySignal', {
    getter(this: FastifyRequest) {
      return watches.get(this)?.signal ?? idle;
    },
  });
  app.decorateRequest('bodyRead', function (this: FastifyRequest) {
    watches.get(this)?.done();
  });
  if (idleMs <= 0) return;

  // Callback hooks, not async ones: they run on every request (most have no body), and fastify continues an
  // async hook a microtask later with a promise per request (docs/benchmarks.md, the 304 path).
  app.addHook('onRequest', (request, reply, next) => {
    const raw = request.raw;
    const hasBody = Number(raw.headers['content-length'] ?? 0) > 0 || raw.headers['transfer-encoding'];
    if (!hasBody || raw.complete) return next();
    const socket = raw.socket;
    const controller = new AbortController();
    let lastBytes = socket.bytesRead;
    let lastProgress = Date.now();
    const timer = setInterval(
      () => {
        if (socket.bytesRead !== lastBytes) {
          lastBytes = socket.bytesRead;
          lastProgress = Date.now();
          return;
        }
        if (Date.now() - lastProgress < idleMs) return;
        done();
        const err = new BodyTimeoutError(idleMs);
        request.log.warn({ url: raw.url }, err.message);
        controller.abort(err);
        setTimeout(() => {
          if (!reply.raw.headersSent && !reply.raw.destroyed) {
            const body = JSON.stringify({ code: err.code, message: err.message });
            reply.raw.writeHead(408, {
              'Content-Type': 'application/json; charset=utf-8',
              'Content-Length': Buffer.byteLength(body),
              Connection: 'close',
            });
            reply.raw.end(body);
          }
          // Unread body bytes would otherwise keep the connection (and its descriptor) alive.
          setTimeout(() => socket.destroy(), 100).unref();
        }, 1000).unref();
      },
      Math.max(10, Math.floor(idleMs / 4)),
    );
    timer.unref();
    const done = () => {
      clearInterval(timer);
      socket.off('close', done);
    };
    watches.set(request, { signal: controller.signal, done });
    socket.once('close', done);
    next();
  });
  app.addHook('preHandler', (request, _reply, next) => {
    // fastify has parsed every body but multipart, which the handler streams (and then calls bodyRead).
    if (!request.isMultipart?.()) request.bodyRead();
    next();
  });
  app.addHook('onResponse', (request, _reply, next) => {
    request.bodyRead();
    next();
  });
}
