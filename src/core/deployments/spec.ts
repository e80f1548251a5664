import { DomainError } from '../errors.js';
import { parseFilter } from '../groups/filter.js';
import { normalizeDeviceId } from '../groups/group-service.js';
import { assertValidName } from '../names.js';
import type { StoredSpec } from './ports.js';
import type { DeploymentSpec } from './types.js';
import { parseWaves } from './waves.js';
import { parseWindow } from './window.js';

const bad = (message: string) => new DomainError('INVALID_INPUT', message);

function int(value: unknown, name: string, fallback: number | undefined, min: number, max: number) {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw bad(`${name} must be an integer from ${min} to ${max}`);
  }
  return value;
}

/** `5%` or `5` (devices); a number is a count. */
export function parseThreshold(value: unknown): string {
  if (value === undefined || value === null) return '0%';
  const text = String(value).trim();
  const m = /^(\d+(?:\.\d+)?)(%)?$/.exec(text);
  if (!m || (m[2] && Number(m[1]) > 100) || (!m[2] && !Number.isInteger(Number(m[1])))) {
    throw bad('maxFailures is a percentage (0-100%) or a device count');
  }
  return text;
}

/** Validates what an operator asked for; the waves' bounds are computed later, against the matched devices. */
export function validateSpec(input: DeploymentSpec): Omit<StoredSpec, 'waves'> & {
  product: string;
  version: string;
  waves: ReturnType<typeof parseWaves>;
} {
  const s = (input ?? {}) as Partial<DeploymentSpec>;
  const product = assertValidName(s.product, 'product');
  if (typeof s.version !== 'string' || s.version === '') throw bad('version is required');
  const list = (v: unknown, name: string): string[] => {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || v.length > 100_000 || v.some((x) => typeof x !== 'string' || x.trim() === '')) {
      throw bad(`${name} must be a list of non-empty strings`);
    }
    return [...new Set(v as string[])];
  };
  const groups = list(s.groups, 'groups').map((g) => assertValidName(g, 'group'));
  const devices = list(s.devices, 'devices').map(normalizeDeviceId);
  const filter =
    s.filter === undefined || s.filter === null || s.filter === '' ? null : parseFilter(s.filter).text;
  const successPercent = s.successPercent ?? 100;
  if (typeof successPercent !== 'number' || !(successPercent >= 0 && successPercent <= 100)) {
    throw bad('successPercent must be from 0 to 100');
  }
  let startAt: string | undefined;
  if (s.startAt !== undefined && s.startAt !== null && s.startAt !== '') {
    const t = typeof s.startAt === 'string' ? new Date(s.startAt) : new Date(NaN);
    if (Number.isNaN(t.getTime())) throw bad('startAt must be an ISO-8601 time');
    startAt = t.toISOString();
  }
  const options: Record<string, string> = {};
  if (s.options !== undefined && s.options !== null) {
    if (typeof s.options !== 'object' || Array.isArray(s.options))
      throw bad('options must be an object of strings');
    for (const [k, v] of Object.entries(s.options)) {
      if (!/^[A-Za-z0-9._-]{1,64}$/.test(k) || typeof v !== 'string' || v.length > 256) {
        throw bad(
          `option "${k.slice(0, 64)}" must be a key of letters, digits and . _ - with a string value`,
        );
      }
      options[k] = v;
    }
  }
  if (s.rollback !== undefined && typeof s.rollback !== 'boolean') throw bad('rollback is true or false');
  return {
    product,
    version: s.version,
    target: { groups, devices, filter },
    waves: parseWaves(s.waves),
    soakSeconds: int(s.soakSeconds, 'soakSeconds', 0, 0, 365 * 86400) as number,
    successPercent,
    maxFailures: parseThreshold(s.maxFailures),
    minFinal: int(s.minFinal, 'minFinal', 1, 0, 10_000_000) as number,
    timeoutSeconds: int(s.timeoutSeconds, 'timeoutSeconds', 7200, 1, 365 * 86400) as number,
    ratePerMinute: int(s.ratePerMinute, 'ratePerMinute', undefined, 1, 10_000_000),
    maxDownloads: int(s.maxDownloads, 'maxDownloads', undefined, 1, 10_000_000),
    window: s.window === undefined || s.window === null ? undefined : parseWindow(s.window),
    startAt,
    rollback: s.rollback ?? false,
    options,
  };
}
