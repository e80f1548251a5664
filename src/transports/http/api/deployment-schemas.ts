import { Type } from 'typebox';
import { DEPLOYMENT_STATES, DEVICE_STATES } from '../../../core/deployments/types.js';

/**
 * TypeBox schemas of the deployments, groups and tags API: fastify validates requests with them (a bad body
 * is a 400 before any handler runs), serializes responses with them, and the OpenAPI document embeds them.
 */
const literals = <T extends readonly string[]>(values: T) => Type.Union(values.map((v) => Type.Literal(v)));

export const Id = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
export const GroupName = Type.Object({ name: Type.String({ minLength: 1, maxLength: 128 }) });
export const DeviceParam = Type.Object({ id: Type.String({ minLength: 1, maxLength: 256 }) });
export const DeviceTagParam = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 256 }),
  tag: Type.String({ minLength: 1, maxLength: 64 }),
});
export const ProductParam = Type.Object({ product: Type.String({ minLength: 1, maxLength: 128 }) });

export const WindowSchema = Type.Object(
  {
    start: Type.String({ pattern: '^\\d\\d:\\d\\d$', description: 'HH:MM local time' }),
    end: Type.String({ pattern: '^\\d\\d:\\d\\d$', description: 'HH:MM; before start = spans midnight' }),
    timeZone: Type.String({ minLength: 1, maxLength: 64, description: 'IANA name, e.g. Europe/Berlin' }),
  },
  { additionalProperties: false },
);

export const CreateDeployment = Type.Object(
  {
    product: Type.String({ minLength: 1, maxLength: 128 }),
    version: Type.String({ minLength: 1, maxLength: 128 }),
    groups: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { maxItems: 100 })),
    devices: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { maxItems: 100_000 })),
    filter: Type.Optional(
      Type.String({ maxLength: 2000, description: 'filter expression (docs/deployments.md)' }),
    ),
    waves: Type.Optional(
      Type.Array(Type.String({ pattern: '^\\d+(\\.\\d+)?%?$' }), {
        minItems: 1,
        maxItems: 20,
        description: 'cumulative: ["1%", "10%", "100%"] or device counts ["10", "100"]',
      }),
    ),
    soakSeconds: Type.Optional(Type.Integer({ minimum: 0 })),
    successPercent: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
    maxFailures: Type.Optional(
      Type.Union([Type.String({ pattern: '^\\d+(\\.\\d+)?%?$' }), Type.Integer({ minimum: 0 })]),
    ),
    minFinal: Type.Optional(Type.Integer({ minimum: 0 })),
    timeoutSeconds: Type.Optional(Type.Integer({ minimum: 1 })),
    ratePerMinute: Type.Optional(Type.Integer({ minimum: 1 })),
    maxDownloads: Type.Optional(Type.Integer({ minimum: 1 })),
    window: Type.Optional(WindowSchema),
    startAt: Type.Optional(Type.String({ description: 'ISO-8601; scheduled until then' })),
    rollback: Type.Optional(Type.Boolean()),
    options: Type.Optional(
      Type.Record(Type.String(), Type.String({ maxLength: 256 }), {
        description: 'per-protocol settings, e.g. { "ddi.download": "forced" }',
      }),
    ),
    dryRun: Type.Optional(Type.Boolean({ description: 'only count: nothing is written' })),
  },
  { additionalProperties: false },
);

const CountsSchema = Type.Object(
  Object.fromEntries(DEVICE_STATES.map((s) => [s, Type.Integer()])) as Record<
    (typeof DEVICE_STATES)[number],
    ReturnType<typeof Type.Integer>
  >,
);

export const DeploymentSchema = Type.Object({
  id: Type.String(),
  product: Type.String(),
  version: Type.String(),
  state: literals(DEPLOYMENT_STATES),
  currentWave: Type.Integer({ description: '0-based index of the open wave' }),
  waves: Type.Array(
    Type.Object({ spec: Type.String(), upTo: Type.Number(), counts: CountsSchema, total: Type.Integer() }),
  ),
  target: Type.Object({
    groups: Type.Array(Type.String()),
    devices: Type.Array(Type.String()),
    filter: Type.Union([Type.String(), Type.Null()]),
  }),
  soakSeconds: Type.Integer(),
  successPercent: Type.Number(),
  maxFailures: Type.String(),
  minFinal: Type.Integer(),
  timeoutSeconds: Type.Integer(),
  ratePerMinute: Type.Optional(Type.Integer()),
  maxDownloads: Type.Optional(Type.Integer()),
  window: Type.Optional(WindowSchema),
  startAt: Type.Optional(Type.String()),
  rollback: Type.Boolean(),
  haltReason: Type.Optional(Type.String()),
  waveOpenedAt: Type.Optional(Type.String()),
  soakUntil: Type.Optional(Type.String()),
  counts: CountsSchema,
  total: Type.Integer(),
  options: Type.Record(Type.String(), Type.String()),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

export const DryRunSchema = Type.Object({
  matched: Type.Integer({ description: 'devices the target matches now (not running the release)' }),
  waves: Type.Array(Type.Object({ spec: Type.String(), size: Type.Integer() })),
});

export const DeploymentList = Type.Object({ items: Type.Array(DeploymentSchema) });

export const ListQuery = Type.Object({
  product: Type.Optional(Type.String({ maxLength: 128 })),
  state: Type.Optional(Type.String({ maxLength: 200, description: 'comma-separated states' })),
});

export const EventsQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  after: Type.Optional(Type.Integer({ minimum: 0, description: 'events with a larger id (paging)' })),
  device: Type.Optional(Type.String({ maxLength: 256 })),
});

export const EventSchema = Type.Object({
  id: Type.Integer(),
  deploymentId: Type.String(),
  deviceId: Type.Union([Type.String(), Type.Null()]),
  at: Type.String(),
  kind: Type.String(),
  detail: Type.Union([Type.String(), Type.Null()]),
});
export const EventList = Type.Object({ items: Type.Array(EventSchema) });

export const DeviceInDeploymentSchema = Type.Object({
  deploymentId: Type.String(),
  deviceId: Type.String(),
  state: literals(DEVICE_STATES),
  wave: Type.Integer(),
  previousVersion: Type.Optional(Type.String()),
  updatedAt: Type.String(),
  reason: Type.Optional(Type.String()),
});

export const CreateGroup = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 128 }),
    filter: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
    devices: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { maxItems: 100_000 })),
  },
  { additionalProperties: false },
);

export const GroupSchema = Type.Object({
  name: Type.String(),
  kind: literals(['static', 'dynamic'] as const),
  filter: Type.Union([Type.String(), Type.Null()]),
  devices: Type.Array(Type.String()),
  createdAt: Type.String(),
});
export const GroupList = Type.Object({ items: Type.Array(GroupSchema) });

export const TagsBody = Type.Object(
  { tags: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 64 }) },
  { additionalProperties: false },
);
export const TagsSchema = Type.Object({ id: Type.String(), tags: Type.Array(Type.String()) });

export const RolloutModeBody = Type.Object(
  { rolloutMode: literals(['immediate', 'deployments'] as const) },
  { additionalProperties: false },
);

export const ErrorSchema = Type.Object({ code: Type.String(), message: Type.String() });
