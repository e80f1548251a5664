import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Services } from '../../../core/services.js';
import { auditContextOf } from '../admin-auth.js';
import { normalizeMac } from '../../../core/devices/mac.js';
import { Device, DeviceEvent, DeviceParams, errors, ListOf, NoContent } from './schemas.js';

const tags = ['devices'];

/** A query filter left empty (`?product=`) means no filter, as the dashboard's forms send it. */
const Filter = (description: string) => Type.Optional(Type.String({ maxLength: 200, description }));
const Time = (description: string) =>
  Type.Optional(Type.Union([Type.String({ format: 'date-time' }), Type.Literal('')], { description }));
const Sort = Type.Union(
  ['id', 'product', 'version', 'lastSeen', 'lastUpdate', 'firstSeen'].map((s) => Type.Literal(s)),
);

const DeviceListQuery = Type.Object({
  product: Filter('Only this product'),
  version: Filter('Only this running version'),
  search: Filter('Part of the id, address or version'),
  seenAfter: Time('ISO-8601 time'),
  seenBefore: Time('ISO-8601 time'),
  sort: Type.Optional(Sort),
  order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')])),
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 50 }),
  offset: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: 0 }),
});

const Stats = Type.Object(
  {
    total: Type.Integer(),
    byProductVersion: Type.Array(
      Type.Object({
        product: Type.Union([Type.String(), Type.Null()]),
        version: Type.Union([Type.String(), Type.Null()]),
        count: Type.Integer(),
      }),
    ),
    checkInsPerHour: Type.Array(Type.Object({ hour: Type.String(), count: Type.Integer() })),
  },
  { additionalProperties: true },
);

const iso = (value: string | undefined) => (value ? new Date(value).toISOString() : undefined);

/** A MAC in any spelling finds the device; other ids are used as given. */
const deviceId = (raw: string) => normalizeMac(raw) ?? raw;

export function registerDeviceRoutes(
  app: FastifyInstance,
  { devices, groups }: Pick<Services, 'devices' | 'groups'>,
): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  api.get(
    '/devices',
    {
      schema: {
        tags,
        summary: 'List devices, paginated and filtered',
        querystring: DeviceListQuery,
        response: {
          200: ListOf(Device, { total: Type.Integer(), limit: Type.Integer(), offset: Type.Integer() }),
          ...errors(),
        },
      },
    },
    async (request) => {
      const q = request.query;
      const { items, total } = await devices.list({
        product: q.product || undefined,
        version: q.version || undefined,
        search: q.search || undefined,
        seenAfter: iso(q.seenAfter),
        seenBefore: iso(q.seenBefore),
        sort: q.sort as 'id' | undefined,
        order: q.order,
        limit: q.limit,
        offset: q.offset,
      });
      return { items, total, limit: q.limit, offset: q.offset };
    },
  );

  api.get(
    '/devices/:id',
    {
      schema: {
        tags,
        summary: 'A device with its history, newest first',
        params: DeviceParams,
        querystring: Type.Object({
          history: Type.Integer({
            minimum: 0,
            maximum: 1000,
            default: 100,
            description: 'events to include',
          }),
        }),
        response: {
          200: Type.Intersect([
            Device,
            Type.Object({ tags: Type.Array(Type.String()), history: Type.Array(DeviceEvent) }),
          ]),
          ...errors(404),
        },
      },
    },
    async (request) => {
      const id = deviceId(request.params.id);
      const device = await devices.get(id);
      const history = await devices.history(id, request.query.history);
      return { ...device, tags: await groups.listTags(id), history };
    },
  );

  api.put(
    '/devices/:id/pin',
    {
      schema: {
        tags,
        summary: 'Pin a device to a version (null to unpin)',
        params: DeviceParams,
        body: Type.Object(
          { version: Type.Union([Type.String({ minLength: 1, maxLength: 256 }), Type.Null()]) },
          { additionalProperties: false },
        ),
        response: { 200: Device, ...errors(404) },
      },
    },
    async (request) => {
      await devices.pin(auditContextOf(request), deviceId(request.params.id), request.body.version);
      return devices.get(deviceId(request.params.id));
    },
  );

  api.delete(
    '/devices/:id',
    {
      schema: {
        tags,
        summary: 'Forget a device',
        params: DeviceParams,
        response: { 204: NoContent, ...errors(404) },
      },
    },
    async (request, reply) => {
      await devices.remove(auditContextOf(request), deviceId(request.params.id));
      reply.code(204).send(null);
    },
  );

  api.get(
    '/stats',
    {
      schema: {
        tags,
        summary: 'Fleet counts and check-ins per hour',
        querystring: Type.Object({ hours: Type.Integer({ minimum: 1, maximum: 24 * 90, default: 24 }) }),
        response: { 200: Stats, ...errors() },
      },
    },
    async (request) => devices.stats(request.query.hours),
  );
}
