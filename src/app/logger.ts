import { writeSync } from 'node:fs';
import { pino, type DestinationStream, type Logger } from 'pino';
import type { Config } from '../config/config.js';

/**
 * stdout that never stops the server (issue 13, defect 9). pino's default destination (sonic-boom) emits an
 * unhandled 'error' on ENOSPC, and in its synchronous mode it retries EAGAIN by sleeping in `Atomics.wait`,
 * which froze the process on a full disk: no /healthz, no SIGTERM. Here a line that cannot be written is
 * dropped and counted; the next one is tried again, so logging resumes by itself once there is room.
 */
export function resilientStdout(fd = 1): DestinationStream & { dropped(): number } {
  let dropped = 0;
  return {
    write(line: string): void {
      try {
        const bytes = Buffer.from(line, 'utf8');
        // A pipe may take part of a line; the rest is written before the next line.
        for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off);
      } catch {
        dropped++;
      }
    },
    dropped: () => dropped,
  };
}

/** Structured JSON logs on stdout (pino); pipe through `pino-pretty` to read them by eye. */
export function createLogger(level: Config['logLevel']): Logger {
  return pino({ level, base: { service: 'updraft' } }, resilientStdout());
}
