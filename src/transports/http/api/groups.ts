import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import type { Services } from '../../../core/services.js';
import { auditContextOf } from '../admin-auth.js';
import {
  CreateGroup,
  DeviceParam,
  DeviceTagParam,
  ErrorSchema,
  GroupList,
  GroupName,
  GroupSchema,
  ProductParam,
  RolloutModeBody,
  TagsBody,
  TagsSchema,
} from './deployment-schemas.js';
import { normalizeDeviceId } from '../../../core/groups/group-service.js';
import { Product } from './schemas.js';

const errors = { 400: ErrorSchema, 401: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema };
const groupTags = ['groups'];
const tagTags = ['devices'];

/** Groups, device tags and the product's rollout mode: what deployments target. */
export function registerGroupRoutes(
  app: FastifyInstance,
  { groups, products }: Pick<Services, 'groups' | 'products'>,
): void {
  app.get(
    '/groups',
    { schema: { tags: groupTags, summary: 'List device groups', response: { 200: GroupList, ...errors } } },
    async () => ({
      items: await groups.list(),
    }),
  );

  app.post<{ Body: Static<typeof CreateGroup> }>(
    '/groups',
    {
      schema: {
        tags: groupTags,
        summary: 'Create a static (devices) or dynamic (filter) group',
        body: CreateGroup,
        response: { 201: GroupSchema, ...errors },
      },
    },
    async (request, reply) => {
      const group = await groups.create(auditContextOf(request), request.body);
      reply.code(201);
      return group;
    },
  );

  app.get<{ Params: Static<typeof GroupName> }>(
    '/groups/:name',
    {
      schema: {
        tags: groupTags,
        summary: 'A device group',
        params: GroupName,
        response: { 200: GroupSchema, ...errors },
      },
    },
    async (request) => groups.get(request.params.name),
  );

  app.delete<{ Params: Static<typeof GroupName> }>(
    '/groups/:name',
    {
      schema: {
        tags: groupTags,
        summary: 'Delete a device group (not while a deployment targets it)',
        params: GroupName,
        response: { 204: Type.Null({ description: 'Deleted' }), ...errors },
      },
    },
    async (request, reply) => {
      await groups.delete(auditContextOf(request), request.params.name);
      reply.code(204).send();
    },
  );

  const tagged = async (raw: string, tags: string[]) => ({ id: normalizeDeviceId(raw), tags });

  app.put<{ Params: Static<typeof DeviceParam>; Body: Static<typeof TagsBody> }>(
    '/devices/:id/tags',
    {
      schema: {
        tags: tagTags,
        summary: "Replace a device's tags",
        params: DeviceParam,
        body: TagsBody,
        response: { 200: TagsSchema, ...errors },
      },
    },
    async (request) =>
      tagged(
        request.params.id,
        await groups.setTags(auditContextOf(request), request.params.id, request.body.tags),
      ),
  );

  app.post<{ Params: Static<typeof DeviceParam>; Body: Static<typeof TagsBody> }>(
    '/devices/:id/tags',
    {
      schema: {
        tags: tagTags,
        summary: 'Add tags to a device',
        params: DeviceParam,
        body: TagsBody,
        response: { 200: TagsSchema, ...errors },
      },
    },
    async (request) =>
      tagged(
        request.params.id,
        await groups.addTags(auditContextOf(request), request.params.id, request.body.tags),
      ),
  );

  app.get<{ Params: Static<typeof DeviceParam> }>(
    '/devices/:id/tags',
    {
      schema: {
        tags: tagTags,
        summary: "A device's tags",
        params: DeviceParam,
        response: { 200: TagsSchema, ...errors },
      },
    },
    async (request) => tagged(request.params.id, await groups.listTags(request.params.id)),
  );

  app.delete<{ Params: Static<typeof DeviceTagParam> }>(
    '/devices/:id/tags/:tag',
    {
      schema: {
        tags: tagTags,
        summary: 'Remove a tag from a device',
        params: DeviceTagParam,
        response: { 200: TagsSchema, ...errors },
      },
    },
    async (request) =>
      tagged(
        request.params.id,
        await groups.removeTags(auditContextOf(request), request.params.id, [request.params.tag]),
      ),
  );

  app.put<{ Params: Static<typeof ProductParam>; Body: Static<typeof RolloutModeBody> }>(
    '/products/:product/rollout-mode',
    {
      schema: {
        tags: ['products'],
        summary: "Set a product's rollout mode (immediate or deployments)",
        params: ProductParam,
        body: RolloutModeBody,
        response: {
          200: Product,
          ...errors,
        },
      },
    },
    async (request) =>
      products.setRolloutMode(auditContextOf(request), request.params.product, request.body.rolloutMode),
  );
}
