/** Median, min and max of a series of runs (the report quotes all three). */
export interface Summary {
  median: number;
  min: number;
  max: number;
}

export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN };
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 === 1
      ? (sorted[mid] as number)
      : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return { median, min: sorted[0] as number, max: sorted[sorted.length - 1] as number };
}

/** 1234567 → "1.23 M", for tables. */
export function human(n: number, digits = 3): string {
  if (!Number.isFinite(n)) return '–';
  const abs = Math.abs(n);
  if (abs >= 1e9) return `${(n / 1e9).toPrecision(digits)} G`;
  if (abs >= 1e6) return `${(n / 1e6).toPrecision(digits)} M`;
  if (abs >= 1e4) return `${(n / 1e3).toPrecision(digits)} k`;
  return abs >= 100 ? n.toFixed(0) : n.toPrecision(digits);
}
