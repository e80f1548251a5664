import { after, describe } from 'node:test';
import { rm } from 'node:fs/promises';
import { createFsBlobStore } from '../../src/storage/blobs/fs-blob-store.js';
import { createCachedBlobStore } from '../../src/storage/blobs/cached-blob-store.js';
import { tempDir } from '../support/server.js';
import { blobStoreContract } from './blob-store.contract.js';

describe('BlobStore contract: filesystem', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  blobStoreContract(async () => {
    const dir = await tempDir('updraft-blobs-');
    dirs.push(dir);
    return createFsBlobStore(dir);
  });
});

describe('BlobStore contract: filesystem behind the memory cache', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  blobStoreContract(async () => {
    const dir = await tempDir('updraft-blobs-');
    dirs.push(dir);
    return createCachedBlobStore(createFsBlobStore(dir), {
      maxBytes: 8 * 1024 * 1024,
      maxBlobBytes: 4 * 1024 * 1024,
    });
  });
});
