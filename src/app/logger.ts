import { pino, type Logger } from 'pino';
import { PinoPretty } from 'pino-pretty';
import type { Config } from '../config/config.js';

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
  if (!pretty) return destination === process.stdout ? pino(options) : pino(options, destination);
  // In-process and synchronous (no worker thread): a crash still prints its last lines.
  const stream = PinoPretty({ colorize: tty, sync: true, destination });
  return pino(options, stream);
}
