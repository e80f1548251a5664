/** One measured configuration: a value per run (and a p99 per run where the tool gives one). */
export interface Series {
  label: string;
  unit: string;
  values: number[];
  p99Ms?: number[];
}

/**
 * A goal from issue #7. `ratio-at-least`: median(ours) / median(reference) ≥ value. `ratio-at-most`: the same
 * ratio ≤ value (latency). `at-most`: the largest run of ours ≤ value (memory).
 */
export type Goal =
  | { kind: 'ratio-at-least'; value: number }
  | { kind: 'ratio-at-most'; value: number }
  | { kind: 'at-most'; value: number };

export interface Comparison {
  name: string;
  ours: Series;
  reference?: Series;
  /** Compare the p99 series instead of the values (registry case). */
  onP99?: boolean;
  goal?: Goal;
}

export interface CaseResult {
  id: string;
  title: string;
  finishedAt: string;
  durationS: number;
  runs: number;
  commands: string[];
  comparisons: Comparison[];
  notes: string[];
}

export interface BenchCase {
  id: string;
  title: string;
  run(ctx: import('./context.js').Context): Promise<CaseResult>;
}
