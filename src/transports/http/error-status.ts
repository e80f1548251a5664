import { DomainError, type ErrorCode } from '../../core/errors.js';

/** Every domain code mapped to an HTTP status; the compiler rejects a code left out. */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  INVALID_INPUT: 400,
  INVALID_NAME: 400,
  INVALID_VERSION: 400,
  PRODUCT_NOT_FOUND: 404,
  PRODUCT_EXISTS: 409,
  PRODUCT_NOT_EMPTY: 409,
  RELEASE_NOT_FOUND: 404,
  VERSION_EXISTS: 409,
  INVALID_STATE: 409,
  ARTIFACT_NOT_FOUND: 404,
  ARTIFACT_REQUIRED: 400,
  DUPLICATE_ARTIFACT: 400,
  DIGEST_MISMATCH: 422,
  UPLOAD_TOO_LARGE: 413,
  BLOB_NOT_FOUND: 500,
  DEVICE_NOT_FOUND: 404,
  TOKEN_NOT_FOUND: 404,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  MANIFEST_INVALID: 422,
  SIGNATURE_INVALID: 422,
  KEY_INVALID: 400,
  KEY_NOT_FOUND: 404,
  NOT_READY: 503,
  DEPLOYMENT_NOT_FOUND: 404,
  GROUP_NOT_FOUND: 404,
  GROUP_EXISTS: 409,
};

export interface ErrorBody {
  code: string;
  message: string;
}

/** Turns any error into a status and the `{ code, message }` body every API error has. */
export function toHttpError(err: unknown): { status: number; body: ErrorBody } {
  if (err instanceof DomainError) {
    return { status: HTTP_STATUS[err.code], body: { code: err.code, message: err.message } };
  }
  const e = err as { statusCode?: number; code?: string; message?: string; validation?: unknown };
  if (e?.validation)
    return { status: 400, body: { code: 'INVALID_INPUT', message: e.message ?? 'invalid request' } };
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    const code =
      e.statusCode === 413
        ? 'UPLOAD_TOO_LARGE'
        : e.statusCode === 404
          ? 'NOT_FOUND'
          : e.statusCode === 415
            ? 'UNSUPPORTED_MEDIA_TYPE'
            : 'INVALID_INPUT';
    return { status: e.statusCode, body: { code, message: e.message ?? 'bad request' } };
  }
  return { status: 500, body: { code: 'INTERNAL', message: 'internal error' } };
}
