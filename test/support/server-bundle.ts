import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildSync } from 'esbuild';

/**
 * The CLI as one ES module, built from src/ once per test process: a spawned server then starts in a fraction
 * of the time `--import tsx` takes (which transforms every module on each start), which is what lets the
 * kill -9 tests restart the server dozens of times, and the CLI tests run hundreds of commands, in their time
 * bounds. Dependencies stay external and
 * load from node_modules (the file lives inside the repository so that they resolve). esbuild is tsx's own
 * compiler, so this is the same transformation tsx applies, done once.
 */
let bundled: string | undefined;

export function serverEntry(): string {
  if (bundled) return bundled;
  const dir = join(process.cwd(), 'node_modules', '.cache', 'updraft-test');
  mkdirSync(dir, { recursive: true });
  // The SQLite check-in writer's worker is a module of its own, found next to the one that starts it.
  const outdir = join(dir, `cli-${process.pid}`);
  const outfile = join(outdir, 'main.mjs');
  buildSync({
    entryPoints: ['src/cli/main.ts', 'src/storage/sql/device-writer-worker.ts'],
    entryNames: '[name]',
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: 'inline',
    outdir,
    logLevel: 'warning',
  });
  process.once('exit', () => rmSync(outdir, { recursive: true, force: true }));
  bundled = outfile;
  return outfile;
}

/** `node <these> serve ...`: the arguments that run the CLI (`updraft`) from src/. */
export const cliCommand = (): string[] => ['--enable-source-maps', serverEntry()];
