/**
 * Every domain error code mapped to a CoAP response code (RFC 7252 §5.9, §12.1.2); the compiler rejects a code
 * left out. The table in docs/coap.md lists the same pairs, and test/coap-devices/error-codes.test.ts fails when
 * the two differ.
 */
import { DomainError, type ErrorCode } from '../../../core/errors.js';
import { Code, code } from '../message.js';
import type { CoapReply } from '../resource.js';

/** RFC 8132 §3.3.3, §3.3.4 (registered for any method in the CoAP Response Codes registry). */
const CONFLICT = code(4, 9);
const UNPROCESSABLE_ENTITY = code(4, 22);

export const COAP_CODES: Record<ErrorCode, number> = {
  INVALID_INPUT: Code.BAD_REQUEST,
  INVALID_NAME: Code.BAD_REQUEST,
  INVALID_VERSION: Code.BAD_REQUEST,
  PRODUCT_NOT_FOUND: Code.NOT_FOUND,
  PRODUCT_EXISTS: CONFLICT,
  PRODUCT_NOT_EMPTY: CONFLICT,
  RELEASE_NOT_FOUND: Code.NOT_FOUND,
  VERSION_EXISTS: CONFLICT,
  INVALID_STATE: CONFLICT,
  ARTIFACT_NOT_FOUND: Code.NOT_FOUND,
  ARTIFACT_REQUIRED: Code.BAD_REQUEST,
  DUPLICATE_ARTIFACT: Code.BAD_REQUEST,
  DIGEST_MISMATCH: UNPROCESSABLE_ENTITY,
  UPLOAD_TOO_LARGE: Code.REQUEST_ENTITY_TOO_LARGE,
  BLOB_NOT_FOUND: Code.INTERNAL_SERVER_ERROR,
  DEVICE_NOT_FOUND: Code.NOT_FOUND,
  TOKEN_NOT_FOUND: Code.NOT_FOUND,
  UNAUTHORIZED: Code.UNAUTHORIZED,
  FORBIDDEN: Code.FORBIDDEN,
  MANIFEST_INVALID: UNPROCESSABLE_ENTITY,
  SIGNATURE_INVALID: UNPROCESSABLE_ENTITY,
  KEY_INVALID: Code.BAD_REQUEST,
  KEY_NOT_FOUND: Code.NOT_FOUND,
  NOT_READY: Code.SERVICE_UNAVAILABLE,
  DEPLOYMENT_NOT_FOUND: Code.NOT_FOUND,
  GROUP_NOT_FOUND: Code.NOT_FOUND,
  GROUP_EXISTS: CONFLICT,
};

/**
 * A domain error as a CoAP reply: the mapped code and the domain code as the diagnostic payload (RFC 7252
 * §5.5.2), never a server path or stack. Anything else is rethrown, and the server answers 5.00 and logs it.
 */
export function coapErrorReply(err: unknown): CoapReply {
  if (err instanceof DomainError) {
    return { code: COAP_CODES[err.code], body: err.code };
  }
  throw err;
}
