import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { DomainError } from '../../core/errors.js';

/**
 * A `multipart/form-data` body without its `boundary` parameter cannot be split into parts (RFC 7578 §4.1 makes
 * the parameter mandatory); busboy throws a plain error for it, which would surface as a 500. Every route that
 * reads multipart (the release upload, the RIOT seed's `/publish`) gets a 400 saying so instead.
 * A callback hook, not an async one: it runs on every request, and fastify continues an async hook one
 * microtask later with a promise per request (docs/benchmarks.md, the 304 path).
 */
export function rejectMultipartWithoutBoundary(
  request: FastifyRequest,
  _reply: FastifyReply,
  done: HookHandlerDoneFunction,
): void {
  const type = request.headers['content-type'];
  if (typeof type !== 'string' || !/^\s*multipart\/form-data\b/i.test(type)) return done();
  if (!/;\s*boundary=("[^"]+"|[^\s;]+)/i.test(type)) {
    return done(
      new DomainError('INVALID_INPUT', 'multipart/form-data needs a boundary parameter (RFC 7578 §4.1)'),
    );
  }
  done();
}
