import type { FastifyInstance } from 'fastify';
import type { Services } from '../../../core/services.js';
import type { DeviceQuery } from '../../../core/devices/types.js';
import { DomainError } from '../../../core/errors.js';
import { normalizeMac } from '../../../core/devices/mac.js';

const SORTS = ['id', 'product', 'version', 'lastSeen', 'lastUpdate', 'firstSeen'] as const;

function intParam(
  value: string | undefined,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new DomainError('INVALID_INPUT', `${name} must be an integer from ${min} to ${max}`);
  }
  return n;
}

function isoParam(value: string | undefined, name: string): string | undefined {
  if (value === undefined || value === '') return undefined;
  const date = new Date(value);
  if (Number.isNaN(date.getTime()))
    throw new DomainError('INVALID_INPUT', `${name} must be an ISO-8601 time`);
  return date.toISOString();
}

/** A MAC in any spelling finds the device; other ids are used as given. */
const deviceId = (raw: string) => normalizeMac(raw) ?? raw;

export function registerDeviceRoutes(
  app: FastifyInstance,
  { devices, groups }: Pick<Services, 'devices' | 'groups'>,
): void {
  app.get<{ Querystring: Record<string, string | undefined> }>('/devices', async (request) => {
    const q = request.query;
    if (q.sort && !SORTS.includes(q.sort as (typeof SORTS)[number])) {
      throw new DomainError('INVALID_INPUT', `sort must be one of ${SORTS.join(', ')}`);
    }
    if (q.order && q.order !== 'asc' && q.order !== 'desc')
      throw new DomainError('INVALID_INPUT', 'order is asc or desc');
    const query: DeviceQuery = {
      product: q.product || undefined,
      version: q.version || undefined,
      search: q.search || undefined,
      seenAfter: isoParam(q.seenAfter, 'seenAfter'),
      seenBefore: isoParam(q.seenBefore, 'seenBefore'),
      sort: q.sort as DeviceQuery['sort'],
      order: q.order as DeviceQuery['order'],
      limit: intParam(q.limit, 'limit', 50, 1, 1000),
      offset: intParam(q.offset, 'offset', 0, 0, Number.MAX_SAFE_INTEGER),
    };
    const { items, total } = await devices.list(query);
    return { items, total, limit: query.limit, offset: query.offset };
  });

  app.get<{ Params: { id: string }; Querystring: { history?: string } }>('/devices/:id', async (request) => {
    const id = deviceId(request.params.id);
    const device = await devices.get(id);
    const history = await devices.history(id, intParam(request.query.history, 'history', 100, 0, 1000));
    return { ...device, tags: await groups.listTags(id), history };
  });

  app.put<{ Params: { id: string }; Body: { version?: string | null } }>(
    '/devices/:id/pin',
    async (request) => {
      const version = (request.body ?? {}).version ?? null;
      if (version !== null && typeof version !== 'string')
        throw new DomainError('INVALID_INPUT', 'version is a string or null');
      await devices.pin(deviceId(request.params.id), version);
      return devices.get(deviceId(request.params.id));
    },
  );

  app.delete<{ Params: { id: string } }>('/devices/:id', async (request, reply) => {
    await devices.remove(deviceId(request.params.id));
    reply.code(204).send();
  });

  app.get<{ Querystring: { hours?: string } }>('/stats', async (request) => {
    return devices.stats(intParam(request.query.hours, 'hours', 24, 1, 24 * 90));
  });
}
