import { writeSync } from 'node:fs';
import { pino, type DestinationStream, type Logger } from 'pino';
import { PinoPretty } from 'pino-pretty';
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

/**
 * Structured logs on stdout (pino): JSON for a log collector, or human-readable lines (pino-pretty) for a person
 * at a terminal. `auto` picks pretty when the output is a terminal, so systemd's journal and containers get JSON.
 */
export function createLogger(
  level: Config['logLevel'],
  format: Config['logFormat'] = 'auto',
  destination: NodeJS.WritableStream & { isTTY?: boolean } = process.stdout,
): Logger {
  const options = { level, base: { service: 'updraft' } };
  const tty = destination.isTTY === true;
  const pretty = format === 'pretty' || (format === 'auto' && tty);
  // JSON on stdout goes through the resilient writer: a full disk drops lines, never the server.
  if (!pretty) return pino(options, destination === process.stdout ? resilientStdout() : destination);
  // In-process and synchronous (no worker thread): a crash still prints its last lines.
  const stream = PinoPretty({ colorize: tty, sync: true, destination });
  return pino(options, stream);
}
