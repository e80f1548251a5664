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

/** A one-line progress bar on stderr, only when stderr is a terminal or the upload is large. */
export function progressBar(label: string): (sent: number, total: number) => void {
  let last = -1;
  return (sent, total) => {
    if (total < 1024 * 1024) return;
    const pct = Math.floor((sent / total) * 100);
    if (pct === last) return;
    last = pct;
    const filled = Math.round(pct / 4);
    process.stderr.write(
      `\r${label} [${'#'.repeat(filled)}${'.'.repeat(25 - filled)}] ${pct}% ${(sent / 1048576).toFixed(1)} MiB`,
    );
    if (sent === total) process.stderr.write('\n');
  };
}
