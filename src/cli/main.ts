#!/usr/bin/env -S node --max-semi-space-size=8 --no-allocation-site-pretenuring
// The V8 flags above (read by bench/lib/updraft.ts and test/ops/launcher.test.ts, so keep them on the first line):
// * V8 grows each young-generation semi-space to 16 MiB by the end of start-up and never gives it back, which was
//   25-30 MB of a server's RSS, idle or serving. 8 MiB took 1,000 streamed downloads from 195 to 177 MB and cost
//   no measurable CPU per request on the 304 or 1 MiB download paths; 4 MiB cost ~10% (docs/benchmarks.md).
// * Allocation-site pretenuring: when the objects of an allocation site survive scavenges for a while (a burst
//   of requests waiting for the first load of an image), V8 allocates that site's objects straight in the old
//   generation from then on. A server's per-request objects (a CoAP message, its options, the reply) then pile up
//   there until a full GC: RSS saw-toothed up to 235 MB under 1,000 CoAP clients in about a third of the
//   processes, and stayed at 139-144 MB in 13 of 13 without it, at no more CPU per block (docs/benchmarks.md).
// Cluster workers inherit them (cluster.fork passes process.execArgv).
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
