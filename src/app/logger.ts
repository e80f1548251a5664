import { pino, type Logger } from 'pino';
import { PinoPretty } from 'pino-pretty';
import type { Config } from '../config/config.js';

/**
 * Structured logs on stdout (pino): JSON for a log collector, or human-readable lines (pino-pretty) for a person
 * at a terminal. `auto` picks pretty when stdout is a terminal, so systemd's journal and containers get JSON.
 */
export function createLogger(level: Config['logLevel'], format: Config['logFormat'] = 'auto'): Logger {
  const options = { level, base: { service: 'updraft' } };
  const pretty = format === 'pretty' || (format === 'auto' && process.stdout.isTTY === true);
  if (!pretty) return pino(options);
  // In-process and synchronous (no worker thread): a crash still prints its last lines.
  return pino(options, PinoPretty({ colorize: process.stdout.isTTY === true, sync: true }));
}
