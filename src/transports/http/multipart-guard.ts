import type { FastifyRequest } from 'fastify';
import { DomainError } from '../../core/errors.js';

/**
 * A `multipart/form-data` body without its `boundary` parameter cannot be split into parts (RFC 7578 §4.1 makes
 * the parameter mandatory); busboy throws a plain error for it, which would surface as a 500. Every route that
 * reads multipart (the release upload, the RIOT seed's `/publish`) gets a 400 saying so instead.
 */
export async function rejectMultipartWithoutBoundary(request: FastifyRequest): Promise<void> {
  const type = request.headers['content-type'];
  if (typeof type !== 'string' || !/^\s*multipart\/form-data\b/i.test(type)) return;
  if (!/;\s*boundary=("[^"]+"|[^\s;]+)/i.test(type)) {
    throw new DomainError('INVALID_INPUT', 'multipart/form-data needs a boundary parameter (RFC 7578 §4.1)');
  }
}
