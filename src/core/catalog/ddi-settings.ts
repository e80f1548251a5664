import { DomainError } from '../errors.js';
import type { Product } from './types.js';

export type Handling = 'forced' | 'attempt' | 'skip';
const HANDLINGS: readonly string[] = ['forced', 'attempt', 'skip'];

/** `product.settings.ddi` (docs/protocols/ddi.md): what the hawkBit DDI and SWUpdate adapters read per product. */
export interface DdiSettings {
  /** `config.polling.sleep`, seconds (hawkBit's default 00:05:00). */
  pollingSeconds: number;
  /** DDI and SWUpdate requests without a token are accepted (off by default). */
  anonymous: boolean;
  /** The chunk `part`: Zephyr's client accepts only `bApp` (hawkBit's legacy key for `application`). */
  part: string;
  /** `deployment.download` / `deployment.update` in immediate mode (a deployment's options win). */
  download: Handling;
  update: Handling;
  /** Artifact names a DDI chunk lists; empty = every artifact of the release. */
  artifacts: string[];
}

/** hawkBit sends `sleep` as ISO-8601 from one day on, which every client rejects (§6.3): clamp below a day. */
export const MAX_SLEEP_SECONDS = 23 * 3600 + 59 * 60 + 59;

export function formatSleep(seconds: number): string {
  const s = Math.min(MAX_SLEEP_SECONDS, Math.max(1, Math.round(seconds)));
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(Math.floor(s / 3600))}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}`;
}

/** `HH:MM:SS` or a number of seconds. */
export function parseSleep(value: unknown): number {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return value;
  if (typeof value === 'string') {
    const m = /^(\d{1,3}):([0-5]\d):([0-5]\d)$/.exec(value);
    if (m) return Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
  }
  throw new DomainError('INVALID_INPUT', 'settings.ddi.pollingSleep must be HH:MM:SS or a number of seconds');
}

const handling = (value: unknown, name: string): Handling => {
  if (value === undefined) return 'forced';
  if (typeof value === 'string' && HANDLINGS.includes(value)) return value as Handling;
  throw new DomainError('INVALID_INPUT', `settings.ddi.${name} must be forced, attempt or skip`);
};

export function isHandling(value: unknown): value is Handling {
  return typeof value === 'string' && HANDLINGS.includes(value);
}

const cache = new WeakMap<Product, DdiSettings>();

/** Reads and validates `settings.ddi`; products are cached objects, so this is computed once per product value. */
export function ddiSettings(product: Product): DdiSettings {
  const hit = cache.get(product);
  if (hit) return hit;
  const settings = validateDdiSettings(product.settings.ddi);
  cache.set(product, settings);
  return settings;
}

/** The checks of `settings.ddi` (run when a product is created or changed, and on read). */
export function validateDdiSettings(value: unknown): DdiSettings {
  const raw = (value ?? {}) as Record<string, unknown>;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new DomainError('INVALID_INPUT', 'settings.ddi must be an object');
  }
  const artifacts = raw.artifacts ?? [];
  if (!Array.isArray(artifacts) || !artifacts.every((a) => typeof a === 'string')) {
    throw new DomainError('INVALID_INPUT', 'settings.ddi.artifacts must be a list of artifact names');
  }
  const part = raw.part ?? 'bApp';
  if (typeof part !== 'string' || !/^[\w.-]{1,64}$/.test(part)) {
    throw new DomainError('INVALID_INPUT', 'settings.ddi.part must be a short word such as bApp or os');
  }
  if (raw.anonymous !== undefined && typeof raw.anonymous !== 'boolean') {
    throw new DomainError('INVALID_INPUT', 'settings.ddi.anonymous must be true or false');
  }
  const settings: DdiSettings = {
    pollingSeconds: raw.pollingSleep === undefined ? 300 : parseSleep(raw.pollingSleep),
    anonymous: raw.anonymous === true,
    part,
    download: handling(raw.download, 'download'),
    update: handling(raw.update, 'update'),
    artifacts: artifacts as string[],
  };
  return settings;
}
