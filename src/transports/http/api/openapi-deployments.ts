import {
  CreateDeployment,
  CreateGroup,
  DeploymentList,
  DeploymentSchema,
  DeviceInDeploymentSchema,
  DryRunSchema,
  EventList,
  GroupList,
  GroupSchema,
  RolloutModeBody,
  TagsBody,
  TagsSchema,
} from './deployment-schemas.js';

/** The deployments, groups and tags part of the OpenAPI document, built from the routes' own schemas. */
const plain = (schema: object): object => JSON.parse(JSON.stringify(schema)) as object;
const error = { $ref: '#/components/schemas/Error' };
const fail = (description: string) => ({ description, content: { 'application/json': { schema: error } } });
const errors = {
  '400': fail('Bad input'),
  '401': fail('Missing or wrong admin token'),
  '404': fail('Not found'),
};
const conflict = { '409': fail('Not allowed in the current state') };
const json = (schema: object, description = 'OK') => ({
  description,
  content: { 'application/json': { schema: plain(schema) } },
});
const body = (schema: object) => ({
  required: true,
  content: { 'application/json': { schema: plain(schema) } },
});
const path = (name: string, description = '') => ({
  name,
  in: 'path',
  required: true,
  schema: { type: 'string' },
  description,
});
const query = (name: string, description = '') => ({
  name,
  in: 'query',
  required: false,
  schema: { type: 'string' },
  description,
});
const id = path('id', 'deployment id');
const device = path('id', 'device id or MAC in any spelling');

const action = (summary: string) => ({
  parameters: [id],
  post: { summary, responses: { '200': json(DeploymentSchema), ...errors, ...conflict } },
});

export const deploymentPaths: Record<string, Record<string, unknown>> = {
  '/deployments': {
    get: {
      summary: 'List deployments, newest first',
      parameters: [query('product'), query('state', 'comma-separated deployment states')],
      responses: { '200': json(DeploymentList), ...errors },
    },
    post: {
      summary: 'Create a deployment (or, with dryRun, count the devices it matches and each wave)',
      description:
        'The target is the union of `groups` and `devices` (every device of the product when both are empty), narrowed by `filter` (docs/deployments.md). Devices already running the release are not part of it. One active deployment per product.',
      requestBody: body(CreateDeployment),
      responses: {
        '200': json(DryRunSchema, 'Dry run: nothing written'),
        '201': json(DeploymentSchema, 'Created'),
        ...errors,
        ...conflict,
      },
    },
  },
  '/deployments/{id}': {
    parameters: [id],
    get: {
      summary: 'A deployment with its counts per state, overall and per wave (maintained counters)',
      responses: { '200': json(DeploymentSchema), ...errors },
    },
  },
  '/deployments/{id}/pause': action('Pause: no new offers until resumed'),
  '/deployments/{id}/resume': action('Resume a paused or halted deployment (earlier failures acknowledged)'),
  '/deployments/{id}/cancel': action('Cancel: no offers of it from now on'),
  '/deployments/{id}/rollback': action(
    'Roll back: every device that installed the release is offered the one it ran before',
  ),
  '/deployments/{id}/events': {
    parameters: [id],
    get: {
      summary: "The deployment's history: its own steps and every device transition, oldest first",
      parameters: [
        query('limit', '1-1000, default 200'),
        query('after', 'event id to page after'),
        query('device'),
      ],
      responses: { '200': json(EventList), ...errors },
    },
  },
  '/deployments/{id}/devices/{device}': {
    parameters: [id, path('device', 'device id or MAC')],
    get: {
      summary: "One device's state in the deployment",
      responses: { '200': json(DeviceInDeploymentSchema), ...errors },
    },
  },
  '/groups': {
    get: { summary: 'List device groups', responses: { '200': json(GroupList), ...errors } },
    post: {
      summary: 'Create a static (devices) or dynamic (filter) group',
      requestBody: body(CreateGroup),
      responses: { '201': json(GroupSchema, 'Created'), ...errors, ...conflict },
    },
  },
  '/groups/{name}': {
    parameters: [path('name')],
    get: { summary: 'A group', responses: { '200': json(GroupSchema), ...errors } },
    delete: {
      summary: 'Delete a group no active deployment targets',
      responses: { '204': { description: 'Deleted' }, ...errors, ...conflict },
    },
  },
  '/devices/{id}/tags': {
    parameters: [device],
    get: { summary: "A device's tags", responses: { '200': json(TagsSchema), ...errors } },
    put: {
      summary: "Replace a device's tags",
      requestBody: body(TagsBody),
      responses: { '200': json(TagsSchema), ...errors },
    },
    post: {
      summary: 'Add tags to a device',
      requestBody: body(TagsBody),
      responses: { '200': json(TagsSchema), ...errors },
    },
  },
  '/devices/{id}/tags/{tag}': {
    parameters: [device, path('tag')],
    delete: { summary: 'Remove a tag from a device', responses: { '200': json(TagsSchema), ...errors } },
  },
  '/products/{product}/rollout-mode': {
    parameters: [path('product')],
    put: {
      summary:
        'Set the rollout mode: immediate (newest release to everyone) or deployments (only what a deployment offers)',
      requestBody: body(RolloutModeBody),
      responses: { '200': json({ $ref: '#/components/schemas/Product' }), ...errors },
    },
  },
};
