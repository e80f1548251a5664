/** The slice of a pino logger the CoAP endpoint uses; pino's own Logger satisfies it. */
export interface CoapLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = (): void => {};

export const silentLogger: CoapLogger = { debug: noop, info: noop, warn: noop, error: noop };
