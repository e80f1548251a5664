import type { FastifyRequest } from 'fastify';
import { DomainError } from '../../../../core/errors.js';

/** Form fields by name, every value kept (a field may repeat). */
export type Fields = Map<string, string[]>;

const MAX_DEVICES = 1000;

function add(fields: Fields, name: string, value: string): void {
  const list = fields.get(name) ?? [];
  list.push(value);
  fields.set(name, list);
}

/**
 * The seed's clients send form fields three ways: `application/x-www-form-urlencoded` (the Python client's
 * `requests.post(data=...)`), `multipart/form-data` (the RIOT makefiles' `curl -F`), and JSON (the seed page's
 * axios `/remove`). All three give the same fields; files sent to a field-only endpoint are read and dropped.
 */
export async function readFields(request: FastifyRequest): Promise<Fields> {
  const fields: Fields = new Map();
  if (request.isMultipart()) {
    for await (const part of request.parts({ limits: { fieldSize: 100_000, fileSize: 1 << 20 } })) {
      if (part.type === 'field') add(fields, part.fieldname, String(part.value));
      else for await (const _chunk of part.file);
    }
    return fields;
  }
  const body = request.body;
  if (body instanceof URLSearchParams) {
    for (const [name, value] of body) add(fields, name, value);
  } else if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
    for (const [name, value] of Object.entries(body as Record<string, unknown>)) {
      for (const v of Array.isArray(value) ? value : [value]) {
        if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')
          add(fields, name, String(v));
      }
    }
  }
  return fields;
}

export const one = (fields: Fields, name: string): string | undefined => fields.get(name)?.[0];

/**
 * `urls`: the seed's one comma-separated field (`[fd00::2],[fd00::3]`); repeated fields and newline- or
 * space-separated lists are read too. Duplicates are notified once.
 */
export function deviceList(fields: Fields, max = MAX_DEVICES): string[] {
  const devices = [
    ...new Set((fields.get('urls') ?? []).flatMap((v) => v.split(/[\s,]+/)).filter((d) => d !== '')),
  ];
  if (devices.length === 0) {
    throw new DomainError(
      'INVALID_INPUT',
      'the urls field is required: comma-separated device addresses such as [fd00::2]',
    );
  }
  if (devices.length > max) {
    throw new DomainError('INVALID_INPUT', `at most ${max} devices per request`);
  }
  return devices;
}
