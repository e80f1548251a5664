import { Type, type TSchema } from 'typebox';

/**
 * The management API's shapes, declared once as TypeBox (JSON Schema) and used three ways: fastify validates
 * requests with them (a bad field is a 400 naming it), `@fastify/swagger` builds `/api/v1/openapi.json` from them,
 * and `test/api/openapi.test.ts` checks real responses against them. See docs/api.md, "How to declare a
 * route".
 */

/** Every API error: `docs/errors.md` lists the codes. */
export const ErrorBody = Type.Object(
  {
    code: Type.String({ description: 'A stable code, see docs/errors.md' }),
    message: Type.String({ description: 'What went wrong, for a person' }),
  },
  { additionalProperties: true },
);

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Bad input: the message names the field',
  401: 'Missing or wrong admin token',
  403: 'Not allowed',
  404: 'Not found',
  409: 'Conflicts with the current state',
  413: 'Too large',
  415: 'Unsupported media type',
  422: 'Content failed verification',
  503: 'Not ready',
  507: 'Storage full',
};

/** The error answers a route can give besides its success: 400 and 401 always (schema and admin token). */
export function errors(...statuses: number[]): Record<number, TSchema> {
  const out: Record<number, TSchema> = {};
  for (const status of [400, 401, ...statuses]) {
    out[status] = Type.Object(ErrorBody.properties, {
      additionalProperties: true,
      description: ERROR_DESCRIPTIONS[status] ?? 'Error',
    });
  }
  return out;
}

/** A 204 answer. */
export const NoContent = Type.Null({ description: 'Done, no body' });

/** Response objects allow properties beyond the declared ones, so that adding a field is not a breaking change. */
const open = { additionalProperties: true } as const;
/** Request bodies do not: a misspelt field is a 400, never silently ignored. */
const closed = { additionalProperties: false } as const;

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const IsoTime = Type.String({ format: 'date-time' });

export const ProductParams = Type.Object({ product: Type.String({ description: 'Product name' }) });
export const ReleaseParams = Type.Object({
  product: Type.String({ description: 'Product name' }),
  version: Type.String({
    description: 'The version (SemVer, four-part or an opaque name: docs/versions.md) or its label',
  }),
});
export const ArtifactParams = Type.Object({
  ...ReleaseParams.properties,
  name: Type.String({ description: 'Artifact name (`firmware.bin`, `slot0`...)' }),
});
export const DeviceParams = Type.Object({
  id: Type.String({ description: 'Device id, or a MAC in any spelling' }),
});
export const TokenParams = Type.Object({ id: Type.String({ description: 'Token id' }) });

const Settings = Type.Record(Type.String(), Type.Unknown(), {
  description: 'Per-product options the protocol adapters read (device auth, signing...)',
});

export const Product = Type.Object(
  {
    name: Type.String(),
    description: Type.String(),
    deviceFamily: Type.String(),
    hardwareClass: Nullable(Type.String()),
    settings: Settings,
    createdAt: IsoTime,
  },
  open,
);

const ProductFields = {
  description: Type.Optional(Type.String({ maxLength: 2000 })),
  deviceFamily: Type.Optional(
    Type.String({ maxLength: 64, description: '`esp8266`, `esp32`, `esp-at`, `riot`, `stm32`...' }),
  ),
  hardwareClass: Type.Optional(Nullable(Type.String({ maxLength: 64 }))),
  settings: Type.Optional(Settings),
};
export const NewProduct = Type.Object(
  { name: Type.String({ description: '1-128 of letters, digits, ".", "_", "+", "-"' }), ...ProductFields },
  closed,
);
export const ProductPatch = Type.Object(ProductFields, closed);

export const Artifact = Type.Object(
  {
    name: Type.String(),
    size: Type.Integer({ minimum: 0 }),
    sha256: Type.String({ description: 'hex' }),
    md5: Type.String({ description: 'hex' }),
    contentType: Type.String(),
  },
  open,
);

export const ReleaseState = Type.Union([
  Type.Literal('draft'),
  Type.Literal('published'),
  Type.Literal('revoked'),
]);

export const Release = Type.Object(
  {
    id: Type.String(),
    product: Type.String(),
    version: Type.String({
      description:
        'Normalised SemVer 2.0 or four-part version, or an opaque name as given (docs/versions.md)',
    }),
    label: Nullable(Type.String({ description: 'The version as it was spelt, when that differs' })),
    notes: Type.String(),
    state: ReleaseState,
    createdAt: IsoTime,
    publishedAt: Nullable(IsoTime),
    revokedAt: Nullable(IsoTime),
    artifacts: Type.Array(Artifact),
  },
  open,
);

export const Device = Type.Object(
  {
    id: Type.String(),
    product: Nullable(Type.String()),
    version: Nullable(Type.String()),
    firstSeen: IsoTime,
    lastSeen: IsoTime,
    lastUpdate: Nullable(IsoTime),
    address: Nullable(Type.String()),
    protocol: Nullable(Type.String()),
    userAgent: Nullable(Type.String()),
    lastOffered: Nullable(Type.String()),
    lastOutcome: Nullable(Type.Union([Type.Literal('ok'), Type.Literal('failed')])),
    pinnedVersion: Nullable(Type.String()),
    attributes: Type.Record(Type.String(), Type.String()),
  },
  open,
);

export const DeviceEvent = Type.Object(
  {
    deviceId: Type.String(),
    at: IsoTime,
    kind: Type.String({
      description: 'check-in, offered, download-started, download-completed, download-failed, updated',
    }),
    version: Nullable(Type.String()),
    detail: Nullable(Type.String()),
  },
  open,
);

export const Token = Type.Object(
  {
    id: Type.String(),
    kind: Type.Union([Type.Literal('admin'), Type.Literal('device')]),
    name: Type.String(),
    product: Nullable(Type.String()),
    device: Nullable(Type.String()),
    createdAt: IsoTime,
  },
  open,
);

/** `{ items: [...] }`, the shape of every list. */
export const ListOf = <T extends TSchema>(item: T, extra: Record<string, TSchema> = {}) =>
  Type.Object({ items: Type.Array(item), ...extra }, open);
