/**
 * Domain errors carry a code, never a transport status: each transport maps every code exhaustively
 * (HTTP in transports/http/error-status.ts, CoAP in transports/coap). The list is documented in docs/errors.md
 * and a test fails when the two differ.
 */
export const ERROR_CODES = {
  INVALID_INPUT: 'A request field is missing or malformed.',
  INVALID_NAME: 'A product, artifact or file name is empty, too long, or contains a path separator or "..".',
  INVALID_VERSION: 'A version string is not SemVer 2.0 (a "1.2" short form is accepted and normalised).',
  PRODUCT_NOT_FOUND: 'No product has that name.',
  PRODUCT_EXISTS: 'A product with that name already exists.',
  PRODUCT_NOT_EMPTY: 'The product still has releases; delete them first.',
  RELEASE_NOT_FOUND: 'The product has no release with that version.',
  VERSION_EXISTS: 'The product already has a release with that version.',
  INVALID_STATE: 'The release is not in a state that allows this change.',
  ARTIFACT_NOT_FOUND: 'The release has no artifact with that name.',
  ARTIFACT_REQUIRED: 'A release needs at least one artifact.',
  DUPLICATE_ARTIFACT: 'Two uploaded files have the same artifact name.',
  DIGEST_MISMATCH: 'The content does not match the digest the client sent or the manifest names.',
  UPLOAD_TOO_LARGE: 'The upload exceeds the configured size limit.',
  BLOB_NOT_FOUND: 'The stored content for an artifact is missing.',
  DEVICE_NOT_FOUND: 'No device has that id.',
  TOKEN_NOT_FOUND: 'No token has that id.',
  UNAUTHORIZED: 'No valid credentials were sent.',
  FORBIDDEN: 'The credentials do not allow this.',
  MANIFEST_INVALID: 'A SUIT manifest could not be decoded or is not well-formed.',
  SIGNATURE_INVALID: 'A signature does not verify with any trusted key.',
  KEY_INVALID: 'A signing key is missing, malformed or of an unsupported algorithm.',
  KEY_NOT_FOUND: 'No signing key has that name.',
  NOT_READY: 'A storage backend is not usable.',
  DEPLOYMENT_NOT_FOUND: 'No deployment has that id.',
  GROUP_NOT_FOUND: 'No device group has that name.',
  GROUP_EXISTS: 'A device group with that name already exists.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class DomainError extends Error {
  override readonly name = 'DomainError';
  constructor(
    readonly code: ErrorCode,
    message: string = ERROR_CODES[code],
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export function isDomainError(err: unknown, code?: ErrorCode): err is DomainError {
  return err instanceof DomainError && (code === undefined || err.code === code);
}
