import { DomainError } from '../errors.js';
import type { Window } from './types.js';

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;
const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** Validates a window (`{ start, end, timeZone }`) or parses the CLI form `01:00-05:00@Europe/Berlin`. */
export function parseWindow(input: unknown): Window {
  let w = input as Partial<Window> | undefined;
  if (typeof input === 'string') {
    const m = /^(\d\d:\d\d)-(\d\d:\d\d)(?:@(.+))?$/.exec(input.trim());
    if (!m)
      throw new DomainError(
        'INVALID_INPUT',
        'window is HH:MM-HH:MM@Time/Zone, e.g. 01:00-05:00@Europe/Berlin',
      );
    w = { start: m[1], end: m[2], timeZone: m[3] ?? 'UTC' };
  }
  if (!w || typeof w !== 'object' || typeof w.start !== 'string' || typeof w.end !== 'string') {
    throw new DomainError('INVALID_INPUT', 'window needs start and end (HH:MM) and a timeZone');
  }
  if (!HHMM.test(w.start) || !HHMM.test(w.end) || w.start === w.end) {
    throw new DomainError('INVALID_INPUT', 'window start and end are different HH:MM times');
  }
  const timeZone = typeof w.timeZone === 'string' && w.timeZone !== '' ? w.timeZone : 'UTC';
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone });
  } catch {
    throw new DomainError('INVALID_INPUT', `"${timeZone.slice(0, 64)}" is not an IANA time zone`);
  }
  return { start: w.start, end: w.end, timeZone };
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Minutes since local midnight in the time zone (Intl applies its DST rules). */
function localMinutes(now: Date, timeZone: string): number {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(timeZone, f);
  }
  const parts = f.formatToParts(now);
  const hour = Number(parts.find((p) => p.type === 'hour')?.value ?? 0);
  const minute = Number(parts.find((p) => p.type === 'minute')?.value ?? 0);
  return hour * 60 + minute;
}

/**
 * Whether `now` is inside the deployment's daily maintenance window (always, without one). Start inclusive,
 * end exclusive; a window whose end is before its start spans midnight (22:00-02:00).
 */
export function inWindow(deployment: { window?: Window }, now: Date): boolean {
  const w = deployment.window;
  if (!w) return true;
  const t = localMinutes(now, w.timeZone);
  const start = minutes(w.start);
  const end = minutes(w.end);
  return start < end ? t >= start && t < end : t >= start || t < end;
}

/** Seconds until the window next opens (0 inside it): the retry hint for devices told "not now". */
export function secondsUntilWindow(deployment: { window?: Window }, now: Date): number {
  const w = deployment.window;
  if (!w || inWindow(deployment, now)) return 0;
  const t = localMinutes(now, w.timeZone);
  const wait = (minutes(w.start) - t + 1440) % 1440;
  return Math.max(60, wait * 60 - now.getUTCSeconds());
}
