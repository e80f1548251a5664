import cliProgress from 'cli-progress';

const { SingleBar, Presets } = cliProgress;
type SingleBar = InstanceType<typeof SingleBar>;

/** Prints rows as an aligned table (or JSON with --json), for humans and scripts alike. */
export function printTable(rows: Record<string, unknown>[], columns: string[]): void {
  const cell = (v: unknown) => (v === null || v === undefined ? '-' : String(v));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  process.stdout.write(`${line(columns)}\n`);
  for (const row of rows) process.stdout.write(`${line(columns.map((c) => cell(row[c])))}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Progress of an upload or download, on stderr: a live bar (cli-progress) when stderr is a terminal; otherwise a
 * single summary line at the end, so a script's log gets no carriage-return noise.
 */
export function progressBar(label: string): (done: number, total: number) => void {
  const started = Date.now();
  const mib = (n: number) => (n / 1048576).toFixed(1);
  if (!process.stderr.isTTY) {
    return (done, total) => {
      if (done === total) {
        process.stderr.write(
          `${label}: ${mib(total)} MiB in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
        );
      }
    };
  }
  let bar: SingleBar | undefined;
  return (done, total) => {
    if (!bar) {
      bar = new SingleBar(
        {
          stream: process.stderr,
          format: `${label} [{bar}] {percentage}% {done}/{size} MiB {speed} MiB/s`,
          hideCursor: true,
          fps: 10,
        },
        Presets.shades_classic,
      );
      bar.start(total, 0, { done: '0.0', size: mib(total), speed: '0.0' });
    }
    const seconds = Math.max(0.001, (Date.now() - started) / 1000);
    bar.update(done, { done: mib(done), speed: mib(done / seconds) });
    if (done === total) bar.stop();
  };
}
