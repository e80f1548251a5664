import { pino, type Logger } from 'pino';
import type { Config } from '../config/config.js';

/** Structured JSON logs on stdout (pino); pipe through `pino-pretty` to read them by eye. */
export function createLogger(level: Config['logLevel']): Logger {
  return pino({ level, base: { service: 'updraft' } });
}
