import { after, before, describe } from 'node:test';
import { randomBytes } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { createS3BlobStore } from '../../src/storage/blobs/s3-blob-store.js';
import { createCachedBlobStore } from '../../src/storage/blobs/cached-blob-store.js';
import { createBucket, rgw, rgwClient } from '../support/rgw.js';
import { blobStoreContract } from './blob-store.contract.js';

describe('BlobStore contract: S3 (Ceph RADOS Gateway)', () => {
  let client: S3Client;
  let bucket: string;
  before(async () => {
    const server = await rgw();
    client = rgwClient(server);
    bucket = await createBucket(server, 'contract');
  });
  after(() => client.destroy());

  // Each store gets its own prefix: list() and sweeps must stay inside it.
  blobStoreContract(async () =>
    createS3BlobStore({
      client,
      bucket,
      prefix: `run-${randomBytes(4).toString('hex')}/`,
      cacheBytes: 1 << 20,
    }),
  );
});

describe('BlobStore contract: S3 behind the memory cache', () => {
  let client: S3Client;
  let bucket: string;
  before(async () => {
    const server = await rgw();
    client = rgwClient(server);
    bucket = await createBucket(server, 'cached');
  });
  after(() => client.destroy());

  blobStoreContract(async () =>
    createCachedBlobStore(
      createS3BlobStore({ client, bucket, prefix: `run-${randomBytes(4).toString('hex')}/`, cacheBytes: 0 }),
      { maxBytes: 8 * 1024 * 1024, maxBlobBytes: 4 * 1024 * 1024 },
    ),
  );
});
