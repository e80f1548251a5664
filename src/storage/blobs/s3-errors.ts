import { DomainError } from '../../core/errors.js';

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  cause?: unknown;
}

const CREDENTIALS = new Set(['SignatureDoesNotMatch', 'InvalidAccessKeyId', 'AccessDenied', 'InvalidToken']);
const NETWORK =
  /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|socket hang up|aborted|TimeoutError/i;

/**
 * Turns an AWS SDK failure into a domain error an operator can act on. RGW's error replies carry an empty
 * `<Message>`, so the S3 error name and the HTTP status are what identify the cause.
 */
export function s3Failure(err: unknown, op: string, where: string, sha256?: string): DomainError {
  if (err instanceof DomainError) return err;
  const e = (err ?? {}) as SdkError;
  const status = e.$metadata?.httpStatusCode;
  const name = e.name ?? e.code ?? 'Error';
  const details = { status, s3Error: name, op, key: where };
  if (sha256 && (name === 'NoSuchKey' || name === 'NotFound' || status === 404) && name !== 'NoSuchBucket') {
    return new DomainError(
      'BLOB_NOT_FOUND',
      `blob ${sha256} is missing from the object store (${where})`,
      details,
    );
  }
  if (name === 'NoSuchBucket') {
    return new DomainError('STORAGE_UNAVAILABLE', `object store: bucket of ${where} does not exist`, details);
  }
  if (CREDENTIALS.has(name) || status === 403) {
    return new DomainError(
      'STORAGE_UNAVAILABLE',
      `object store refused the credentials for ${op} ${where} (${name}, HTTP ${status ?? 403}): ` +
        'check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or the AWS profile) and the bucket policy',
      details,
    );
  }
  if (name === 'CredentialsProviderError') {
    return new DomainError(
      'STORAGE_UNAVAILABLE',
      `no credentials for the object store: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or AWS_PROFILE (${e.message})`,
      details,
    );
  }
  const text = `${name} ${e.code ?? ''} ${e.message ?? ''} ${String((e.cause as SdkError | undefined)?.code ?? '')}`;
  if (NETWORK.test(text) || status === undefined) {
    return new DomainError(
      'STORAGE_UNAVAILABLE',
      `object store unreachable during ${op} ${where}: ${e.code ?? name} ${e.message ?? ''}`.trim(),
      details,
    );
  }
  return new DomainError(
    'STORAGE_UNAVAILABLE',
    `object store failed ${op} ${where}: ${name} (HTTP ${status})${e.message ? `: ${e.message}` : ''}`,
    details,
  );
}
