import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../config/config.js';
import type { BlobStore } from '../core/blobs/blob-store.js';
import { createFsBlobStore } from '../storage/blobs/fs-blob-store.js';
import { createCachedBlobStore } from '../storage/blobs/cached-blob-store.js';

/** `s3://bucket/some/prefix` → bucket and a prefix that is '' or ends in '/'. */
export function parseS3Location(location: string): { bucket: string; prefix: string } {
  const rest = location.replace(/^s3:\/\//, '');
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const prefix = slash < 0 ? '' : rest.slice(slash + 1).replace(/^\/+|\/+$/g, '');
  return { bucket, prefix: prefix ? `${prefix}/` : '' };
}

/**
 * An S3 client as Updraft uses it: credentials from the standard AWS chain (environment, profile, instance role),
 * and only the checksums S3 requires, because RGW 16 answers the SDK's default aws-chunked bodies with
 * 411 MissingContentLength (docs/storage.md).
 */
export async function createS3Client(config: Config): Promise<S3Client> {
  // Loaded only when configured: the SDK is a large module graph that every CLI command would otherwise load.
  const { S3Client } = await import('@aws-sdk/client-s3');
  return new S3Client({
    endpoint: config.s3Endpoint || undefined,
    // An S3-compatible server has no region to discover: its usual one unless told otherwise.
    region: config.s3Region || (config.s3Endpoint ? 'us-east-1' : undefined),
    forcePathStyle: config.s3ForcePathStyle,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 3,
    requestHandler: {
      connectionTimeout: 5000,
      // Idle socket (no byte either way) this long: a store gone silent fails the request instead of hanging it.
      socketTimeout: 120_000,
      httpAgent: { keepAlive: true, maxSockets: 256 },
      httpsAgent: { keepAlive: true, maxSockets: 256 },
    },
  });
}

/**
 * The configured blob store, behind the memory cache of hot images when that is on; `onLookup` is told of every
 * cache hit and miss (the metrics).
 */
export async function openBlobStore(config: Config, onLookup?: (hit: boolean) => void): Promise<BlobStore> {
  let store: BlobStore;
  if (config.blobStore.startsWith('s3://')) {
    const { createS3BlobStore, S3_MAX_BLOB_BYTES } = await import('../storage/blobs/s3-blob-store.js');
    if (config.maxUploadBytes > S3_MAX_BLOB_BYTES)
      throw new Error(`with an S3 blob store, max upload bytes can be at most ${S3_MAX_BLOB_BYTES}`);
    const { bucket, prefix } = parseS3Location(config.blobStore);
    store = createS3BlobStore({
      client: await createS3Client(config),
      bucket,
      prefix,
      cacheBytes: config.s3CacheBytes,
      incompleteAfterMs: config.blobIncompleteAfterMs,
    });
  } else {
    store = createFsBlobStore(join(config.dataDir, 'blobs'));
  }
  return config.blobCacheBytes > 0
    ? createCachedBlobStore(store, {
        maxBytes: config.blobCacheBytes,
        maxBlobBytes: config.blobCacheMaxImageBytes,
        onLookup,
      })
    : store;
}
