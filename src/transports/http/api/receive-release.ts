import type { FastifyRequest } from 'fastify';
import type { Release } from '../../../core/catalog/types.js';
import type { ReleaseService } from '../../../core/catalog/release-service.js';
import type { ReleaseUpload } from '../../../core/catalog/release-upload.js';
import { DomainError } from '../../../core/errors.js';
import { auditContextOf } from '../admin-auth.js';

const HEX = /^[0-9a-fA-F]+$/;
const DIGEST_FIELD = /^(sha256|md5)\.(.+)$/;

/** Resolves with `promise`, or rejects with the signal's reason as soon as it is aborted. */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * A digest field sent after its file (`-F firmware.bin=@f -F sha256.firmware.bin=...`) is checked against what
 * was stored, exactly as one sent first would have been; a mismatch fails the whole upload.
 */
function checkLateDigest(upload: ReleaseUpload | undefined, field: string, value: string): void {
  const m = DIGEST_FIELD.exec(field);
  const artifact = m && upload?.artifacts.find((a) => a.name === m[2]);
  if (!m || !artifact) return;
  if (!HEX.test(value)) throw new DomainError('INVALID_INPUT', 'a digest is hex');
  const stored = m[1] === 'sha256' ? artifact.sha256 : artifact.md5;
  if (value.toLowerCase() !== stored) {
    throw new DomainError(
      'DIGEST_MISMATCH',
      `${m[1]} of ${artifact.name} is ${stored}, the client sent ${value}`,
    );
  }
}

/**
 * Streams a multipart release upload into the catalog without buffering a file. Fields come first:
 * `version` (required), `notes`, `publish` (`true`), and optional digests `sha256.<artifact>` / `md5.<artifact>`
 * which are verified against what arrives. Each file part's field name is the artifact name.
 */
export async function receiveRelease(
  request: FastifyRequest,
  releases: ReleaseService,
  product: string,
  maxUploadBytes: number,
): Promise<Release> {
  if (!request.isMultipart()) {
    throw new DomainError('INVALID_INPUT', 'a release is uploaded as multipart/form-data');
  }
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxUploadBytes + 1024 * 1024) {
    throw new DomainError('UPLOAD_TOO_LARGE', `upload exceeds the limit of ${maxUploadBytes} bytes`);
  }
  const fields: Record<string, string> = {};
  let upload: ReleaseUpload | undefined;
  const signal = request.bodySignal;
  try {
    const parts = request.parts({ limits: { fileSize: maxUploadBytes + 1, fieldSize: 100_000 } });
    const iterator = parts[Symbol.asyncIterator]();
    for (;;) {
      // A body that stops arriving (or lacks its closing boundary) would leave this await pending forever.
      const next = await untilAborted(iterator.next(), signal);
      if (next.done) break;
      const part = next.value;
      if (part.type === 'field') {
        if (upload && part.fieldname === 'version') {
          throw new DomainError('INVALID_INPUT', 'the version field must come before the files');
        }
        fields[part.fieldname] = String(part.value);
        checkLateDigest(upload, part.fieldname, fields[part.fieldname] ?? '');
        continue;
      }
      if (!upload) {
        if (!fields.version)
          throw new DomainError('INVALID_INPUT', 'the version field must come before the files');
        upload = await releases.begin({
          product,
          version: fields.version,
          notes: fields.notes,
          publish: fields.publish === 'true',
        });
      }
      const expectedSha256 = fields[`sha256.${part.fieldname}`];
      const expectedMd5 = fields[`md5.${part.fieldname}`];
      for (const digest of [expectedSha256, expectedMd5]) {
        if (digest !== undefined && !HEX.test(digest))
          throw new DomainError('INVALID_INPUT', 'a digest is hex');
      }
      await upload.add({
        name: part.fieldname,
        source: part.file,
        contentType: part.mimetype,
        expectedSha256,
        expectedMd5,
        signal,
      });
      if (part.file.truncated) {
        throw new DomainError('UPLOAD_TOO_LARGE', `upload exceeds the limit of ${maxUploadBytes} bytes`);
      }
    }
    if (!upload) {
      if (!fields.version) throw new DomainError('INVALID_INPUT', 'the version field is required');
      // Validate product and version before complaining about the missing files.
      await releases.begin({ product, version: fields.version });
      throw new DomainError('ARTIFACT_REQUIRED', 'a release needs at least one file');
    }
    request.bodyRead();
    return await releases.commit(auditContextOf(request), upload);
  } catch (err) {
    discardRestOfBody(request);
    if (upload) await releases.discard(upload);
    if (signal.aborted) throw signal.reason;
    throw endedEarly(err) ?? err;
  }
}

/**
 * A multipart body that ends without its closing boundary (RFC 2046 §5.1.1) makes busboy destroy the file part
 * being stored; the store's pipeline then reports a premature close before busboy's own error reaches the
 * iterator. Either is the client's malformed body: a 400, never a 500.
 */
export function endedEarly(err: unknown): DomainError | undefined {
  const code = (err as { code?: string } | undefined)?.code;
  if (
    code === 'ERR_STREAM_PREMATURE_CLOSE' ||
    (err as Error | undefined)?.message === 'Unexpected end of form'
  )
    return new DomainError('INVALID_INPUT', 'the multipart body ended before its closing boundary');
  return undefined;
}

/**
 * An upload refused half-way still has bytes in flight. Left unread they stall the client, which never sees
 * the error; so the rest is read and dropped (also used by the RIOT seed's `POST /publish`).
 */
export function discardRestOfBody(request: FastifyRequest): void {
  const raw = request.raw;
  if (raw.complete) return;
  raw.unpipe();
  raw.removeAllListeners('data');
  raw.resume();
}
