import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import type { Services } from '../../../core/services.js';
import { auditContextOf } from '../admin-auth.js';
import { DomainError } from '../../../core/errors.js';
import { DEPLOYMENT_STATES, type DeploymentState } from '../../../core/deployments/types.js';
import { normalizeDeviceId } from '../../../core/groups/group-service.js';
import {
  CreateDeployment,
  DeploymentList,
  DeploymentSchema,
  DeviceInDeploymentSchema,
  DryRunSchema,
  ErrorSchema,
  EventList,
  EventsQuery,
  Id,
  ListQuery,
} from './deployment-schemas.js';

const errors = { 400: ErrorSchema, 401: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema };
const tags = ['deployments'];
const DeploymentDeviceParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64 }),
  device: Type.String({ minLength: 1, maxLength: 256 }),
});

function states(raw: string | undefined): DeploymentState[] | undefined {
  if (!raw) return undefined;
  const list = raw.split(',').map((s) => s.trim());
  for (const s of list) {
    if (!DEPLOYMENT_STATES.includes(s as DeploymentState)) {
      throw new DomainError('INVALID_INPUT', `state must be among ${DEPLOYMENT_STATES.join(', ')}`);
    }
  }
  return list as DeploymentState[];
}

/** `/api/v1/deployments`: each route is one service call (docs/api.md, docs/deployments.md). */
export function registerDeploymentRoutes(
  app: FastifyInstance,
  { deployments }: Pick<Services, 'deployments'>,
): void {
  app.post<{ Body: Static<typeof CreateDeployment> }>(
    '/deployments',
    {
      schema: {
        tags,
        summary: 'Create a deployment (dryRun: only count the target and its waves)',
        body: CreateDeployment,
        response: { 200: DryRunSchema, 201: DeploymentSchema, ...errors },
      },
    },
    async (request, reply) => {
      const result = await deployments.create(auditContextOf(request), request.body);
      reply.code('matched' in result ? 200 : 201);
      return result;
    },
  );

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/deployments',
    {
      schema: {
        tags,
        summary: 'List deployments, newest first',
        querystring: ListQuery,
        response: { 200: DeploymentList, ...errors },
      },
    },
    async (request) => ({
      items: await deployments.list({
        product: request.query.product || undefined,
        states: states(request.query.state),
      }),
    }),
  );

  app.get<{ Params: Static<typeof Id> }>(
    '/deployments/:id',
    {
      schema: {
        tags,
        summary: 'A deployment with its counts per state and per wave',
        params: Id,
        response: { 200: DeploymentSchema, ...errors },
      },
    },
    async (request) => deployments.show(request.params.id),
  );

  for (const action of ['pause', 'resume', 'cancel', 'rollback'] as const) {
    app.post<{ Params: Static<typeof Id> }>(
      `/deployments/:id/${action}`,
      {
        schema: {
          tags,
          summary: `${action[0]?.toUpperCase()}${action.slice(1)} a deployment`,
          params: Id,
          response: { 200: DeploymentSchema, ...errors },
        },
      },
      async (request) => deployments[action](auditContextOf(request), request.params.id),
    );
  }

  app.get<{ Params: Static<typeof Id>; Querystring: Static<typeof EventsQuery> }>(
    '/deployments/:id/events',
    {
      schema: {
        tags,
        summary: "A deployment's events, oldest first",
        params: Id,
        querystring: EventsQuery,
        response: { 200: EventList, ...errors },
      },
    },
    async (request) => ({
      items: await deployments.listEvents(request.params.id, {
        limit: request.query.limit,
        afterId: request.query.after,
        deviceId: request.query.device ? normalizeDeviceId(request.query.device) : undefined,
      }),
    }),
  );

  app.get<{ Params: { id: string; device: string } }>(
    '/deployments/:id/devices/:device',
    {
      schema: {
        tags,
        summary: "One device's state in a deployment",
        params: DeploymentDeviceParams,
        response: { 200: DeviceInDeploymentSchema, ...errors },
      },
    },
    async (request) => {
      await deployments.show(request.params.id);
      const state = await deployments.deviceState(
        request.params.id,
        normalizeDeviceId(request.params.device),
      );
      if (!state)
        throw new DomainError('DEVICE_NOT_FOUND', 'the device is not (yet) part of this deployment');
      return state;
    },
  );
}
