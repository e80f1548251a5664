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
  const outfile = join(dir, `main-${process.pid}.mjs`);
  buildSync({
    entryPoints: ['src/cli/main.ts'],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: 'inline',
    outfile,
    logLevel: 'warning',
  });
  process.once('exit', () => rmSync(outfile, { force: true }));
  bundled = outfile;
  return outfile;
}

/** `node <these> serve ...`: the arguments that run the CLI (`updraft`) from src/. */
export const cliCommand = (): string[] => ['--enable-source-maps', serverEntry()];
