/** One measured configuration: a value per run (and a p99 per run where the tool gives one). */
export interface Series {
  label: string;
  unit: string;
  values: number[];
  p99Ms?: number[];
  /**
   * What the server spent: CPU time (user + system, all its processes, from /proc/<pid>/stat) in µs per `per`
   * (request, block, download), one value per run. Optional: results from before it was measured still render.
   */
  cpu?: { per: string; us: number[] };
}

/**
 * A goal from issue #7. `ratio-at-least`: ours / reference ≥ value in every interleaved run (run i of ours against
 * run i of the reference). `ratio-at-most`: the same ratio ≤ value in every run (latency). `at-most`: every run of
 * ours ≤ value (memory). A goal counts as met only when all runs, and at least three, meet it (issue 16).
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

/** The result of case `c` begun at `started` (a `Date.now()`), finished now, in the field order of the JSON. */
export function caseResult(
  c: Pick<BenchCase, 'id' | 'title'>,
  ctx: Pick<import('./context.js').Context, 'runs'>,
  started: number,
  body: Pick<CaseResult, 'commands' | 'comparisons' | 'notes'>,
): CaseResult {
  return {
    id: c.id,
    title: c.title,
    finishedAt: new Date().toISOString(),
    durationS: (Date.now() - started) / 1000,
    runs: ctx.runs,
    commands: body.commands,
    comparisons: body.comparisons,
    notes: body.notes,
  };
}
