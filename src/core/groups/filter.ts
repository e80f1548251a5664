import { DomainError } from '../errors.js';
import { parseRange, satisfies, type VersionRange } from '../versions/range.js';

/**
 * The filter expression of dynamic groups and deployments (docs/deployments.md, "Filter expressions"):
 * terms joined by spaces or `and`, all of which must hold.
 *
 *   product=<name>                       the device's product
 *   version=<range>  version<2.3.0       the version it runs, as a SemVer range (quote ranges with spaces:
 *                                        version=">=1.0.0 <2.0.0", version=~1.4, version=^2)
 *   tag=a,b                              has every one of these tags
 *   tag-any=a,b                          has at least one of them
 *   attr.<key>=<value>                   a reported attribute equals the value
 *   seen<7d  seen>30d                    last seen within / more than this long ago (s, m, h, d)
 */
export type FilterTerm =
  | { kind: 'product'; name: string }
  | { kind: 'version'; range: VersionRange; text: string }
  | { kind: 'tags-all'; tags: string[] }
  | { kind: 'tags-any'; tags: string[] }
  | { kind: 'attr'; key: string; value: string }
  | { kind: 'seen'; within: boolean; seconds: number };

export interface Filter {
  text: string;
  terms: FilterTerm[];
}

/** What a filter is evaluated against: a device as the check-in path (or the registry) sees it. */
export interface DeviceFacts {
  id: string;
  product: string | null;
  version: string | null;
  tags: ReadonlySet<string>;
  attributes: Readonly<Record<string, string>>;
  /** ISO-8601. */
  lastSeen: string;
}

const TAG = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/;

export function assertValidTag(tag: unknown): string {
  if (typeof tag !== 'string' || !TAG.test(tag)) {
    throw new DomainError(
      'INVALID_INPUT',
      `tag "${String(tag).slice(0, 64)}" must be 1-64 characters: letters, digits and . _ : / -, not starting with a symbol`,
    );
  }
  return tag;
}

export function parseDuration(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(s|m|h|d)?$/.exec(text.trim());
  if (!m) return undefined;
  const unit = { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}

const TERM = /^(product|version|tag|tag-any|seen|attr\.[A-Za-z0-9._-]{1,64})\s*(<=|>=|=|:|<|>)\s*/;

const bad = (message: string) => new DomainError('INVALID_INPUT', `filter: ${message}`);

/** Parses a filter expression; throws INVALID_INPUT naming the first thing that is wrong. */
export function parseFilter(input: unknown): Filter {
  if (typeof input !== 'string' || input.trim() === '' || input.length > 2000) {
    throw bad('a non-empty expression of at most 2000 characters is required');
  }
  const terms: FilterTerm[] = [];
  let rest = input.trim();
  while (rest !== '') {
    const andWord = /^and\s+/i.exec(rest);
    if (andWord && terms.length > 0) {
      rest = rest.slice(andWord[0].length);
      continue;
    }
    const m = TERM.exec(rest);
    if (!m)
      throw bad(
        `expected product=, version=, tag=, tag-any=, attr.<key>= or seen< at "${rest.slice(0, 40)}"`,
      );
    const key = m[1] as string;
    const op = m[2] as string;
    rest = rest.slice(m[0].length);
    let value: string;
    if (rest.startsWith('"')) {
      const end = rest.indexOf('"', 1);
      if (end < 0) throw bad('unterminated quote');
      value = rest.slice(1, end);
      rest = rest.slice(end + 1);
    } else {
      const end = rest.search(/\s/);
      value = end < 0 ? rest : rest.slice(0, end);
      rest = end < 0 ? '' : rest.slice(end);
    }
    rest = rest.trimStart();
    terms.push(term(key, op, value));
  }
  return { text: input.trim(), terms };
}

function term(key: string, op: string, value: string): FilterTerm {
  const equality = op === '=' || op === ':';
  if (key === 'seen') {
    if (op !== '<' && op !== '>') throw bad('seen takes < (within) or > (longer ago than), e.g. seen<7d');
    const seconds = parseDuration(value);
    if (seconds === undefined) throw bad(`"${value}" is not a duration like 90s, 30m, 12h or 7d`);
    return { kind: 'seen', within: op === '<', seconds };
  }
  if (key === 'version') {
    const text = equality ? value : `${op}${value}`;
    const range = parseRange(text);
    if (!range) throw bad(`"${text}" is not a SemVer range (<2.3.0, >=1.0.0 <2.0.0, ~1.4, ^2)`);
    return { kind: 'version', range, text };
  }
  if (!equality) throw bad(`${key} takes =`);
  if (value === '') throw bad(`${key} needs a value`);
  if (key === 'product') return { kind: 'product', name: value };
  if (key === 'tag' || key === 'tag-any') {
    const tags = value.split(',').map((t) => assertValidTag(t.trim()));
    return { kind: key === 'tag' ? 'tags-all' : 'tags-any', tags };
  }
  return { kind: 'attr', key: key.slice('attr.'.length), value };
}

export function matchesFilter(filter: Filter, device: DeviceFacts, now: Date): boolean {
  return filter.terms.every((t) => matchesTerm(t, device, now));
}

function matchesTerm(t: FilterTerm, d: DeviceFacts, now: Date): boolean {
  switch (t.kind) {
    case 'product':
      return d.product === t.name;
    case 'version':
      return d.version !== null && satisfies(d.version, t.range);
    case 'tags-all':
      return t.tags.every((tag) => d.tags.has(tag));
    case 'tags-any':
      return t.tags.some((tag) => d.tags.has(tag));
    case 'attr':
      return d.attributes[t.key] === t.value;
    case 'seen': {
      const age = (now.getTime() - Date.parse(d.lastSeen)) / 1000;
      return t.within ? age <= t.seconds : age > t.seconds;
    }
  }
}
