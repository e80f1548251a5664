#!/usr/bin/env node
import { ApiError } from './api-client.js';
import { buildProgram } from './program.js';

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
