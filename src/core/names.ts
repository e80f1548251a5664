import { DomainError } from './errors.js';

/**
 * Product, artifact and publish-id names end up in URLs, CoAP paths and log lines, never in file paths
 * (blobs are content-addressed), but they are still held to a strict alphabet so that no request can smuggle a
 * path separator or `..` through them.
 */
const NAME = /^[A-Za-z0-9_][A-Za-z0-9._+-]{0,127}$/;

export function isValidName(name: string): boolean {
  return NAME.test(name) && !name.includes('..');
}

export function assertValidName(name: unknown, what = 'name'): string {
  if (typeof name !== 'string' || !isValidName(name)) {
    throw new DomainError(
      'INVALID_NAME',
      `${what} must be 1-128 characters of letters, digits, ".", "_", "+" or "-", without ".." or a path separator`,
      { [what]: typeof name === 'string' ? name.slice(0, 200) : typeof name },
    );
  }
  return name;
}
