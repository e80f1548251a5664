import { compareSemVer, parseSemVer, type SemVer } from './semver.js';

/**
 * SemVer ranges as npm writes them (https://github.com/npm/node-semver#ranges), the subset operators use for
 * targeting: comparators `<`, `<=`, `>`, `>=`, `=` joined by spaces (all must hold), alternatives joined by `||`,
 * tilde (`~1.4` = `>=1.4.0 <1.5.0`), caret (`^2` = `>=2.0.0 <3.0.0`, `^0.2.3` = `>=0.2.3 <0.3.0`) and partial
 * versions (`1.4` = `>=1.4.0 <1.5.0`).
 */
export type VersionRange = Comparator[][];
interface Comparator {
  op: '<' | '<=' | '>' | '>=' | '=';
  v: SemVer;
}

const PART = /^([<>]=?|=)?\s*([~^])?\s*[vV]?(\d+)(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?(-[0-9A-Za-z.-]+)?$/;

const ver = (major: number, minor: number, patch: number, pre: (string | number)[] = []): SemVer => ({
  major,
  minor,
  patch,
  prerelease: pre,
  build: [],
});

function parseComparator(token: string): Comparator[] | undefined {
  const m = PART.exec(token);
  if (!m) return undefined;
  const op = m[1] as Comparator['op'] | undefined;
  const sugar = m[2];
  const major = Number(m[3]);
  const minor = m[4] === undefined || /[xX*]/.test(m[4]) ? undefined : Number(m[4]);
  const patch = m[5] === undefined || /[xX*]/.test(m[5]) ? undefined : Number(m[5]);
  const pre = m[6] ? (parseSemVer(`0.0.0${m[6]}`)?.prerelease ?? []) : [];
  const low = ver(major, minor ?? 0, patch ?? 0, pre);
  if (sugar && op) return undefined;
  if (sugar === '^') {
    const high =
      major > 0 || minor === undefined
        ? ver(major + 1, 0, 0)
        : minor > 0 || patch === undefined
          ? ver(0, minor + 1, 0)
          : ver(0, 0, patch + 1);
    return [
      { op: '>=', v: low },
      { op: '<', v: high },
    ];
  }
  if (sugar === '~') {
    const high = minor === undefined ? ver(major + 1, 0, 0) : ver(major, minor + 1, 0);
    return [
      { op: '>=', v: low },
      { op: '<', v: high },
    ];
  }
  const partial = minor === undefined || patch === undefined;
  if (!op || op === '=') {
    if (!partial) return [{ op: '=', v: low }];
    const high = minor === undefined ? ver(major + 1, 0, 0) : ver(major, minor + 1, 0);
    return [
      { op: '>=', v: low },
      { op: '<', v: high },
    ];
  }
  // `<=1.4` means below 1.5.0, `>1.4` means from 1.5.0: partial versions cover their whole span.
  if (partial && (op === '<=' || op === '>')) {
    const high = minor === undefined ? ver(major + 1, 0, 0) : ver(major, minor + 1, 0);
    return [{ op: op === '<=' ? '<' : '>=', v: high }];
  }
  return [{ op, v: low }];
}

/** Parses a range, or returns undefined when it is not one. */
export function parseRange(input: string): VersionRange | undefined {
  if (input.length > 256) return undefined;
  const alternatives = input.split('||').map((a) => a.trim());
  const out: VersionRange = [];
  for (const alt of alternatives) {
    if (alt === '') return undefined;
    // `>= 1.0.0` (a space after the operator) is one comparator.
    const tokens = alt.replace(/([<>]=?|=|[~^])\s+/g, '$1').split(/\s+/);
    const set: Comparator[] = [];
    for (const token of tokens) {
      if (token === '*' || token === 'x') continue;
      const parsed = parseComparator(token);
      if (!parsed) return undefined;
      set.push(...parsed);
    }
    out.push(set);
  }
  return out;
}

export function satisfies(version: string, range: VersionRange): boolean {
  const v = parseSemVer(version);
  if (!v) return false;
  return range.some((set) =>
    set.every(({ op, v: bound }) => {
      const c = compareSemVer(v, bound);
      return op === '<' ? c < 0 : op === '<=' ? c <= 0 : op === '>' ? c > 0 : op === '>=' ? c >= 0 : c === 0;
    }),
  );
}
