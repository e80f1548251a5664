import { after, describe } from 'node:test';
import { rm } from 'node:fs/promises';
import { createFsBlobStore } from '../../src/storage/blobs/fs-blob-store.js';
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
