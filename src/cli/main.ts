#!/usr/bin/env node
import { ApiError } from './api-client.js';
import { buildProgram } from './program.js';

// `updraft … | head`, `| grep -q`: the reader has what it wanted and went away. Stop quietly and successfully
// (a stack trace for an unhandled EPIPE, and exit 1, broke `set -o pipefail` scripts).
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

buildProgram()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    if (err instanceof ApiError) {
      process.stderr.write(`updraft: ${err.message} (${err.code}, HTTP ${err.status})\n`);
    } else {
      process.stderr.write(`updraft: ${(err as Error).message ?? err}\n`);
    }
    process.exit(1);
  });
