import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { MultipartFile } from '@fastify/multipart';
import { DomainError } from '../../../../core/errors.js';
import type { IncomingFile } from '../../../../core/riot-publish/publish-ids.js';

/**
 * File parts that arrive before `publish_id` (the seed accepts any order): written to a private temporary
 * folder, at most `maxBytes` in all, then handed on in their order once the publish id is known. Nothing of it
 * is in the blob store until the release is assembled, and `cleanup` removes the folder on every outcome.
 */
export function createSpool(maxBytes: number) {
  let dir: string | undefined;
  let total = 0;
  const spooled: { field: string; path: string; contentType: string }[] = [];

  const tooLarge = () => new DomainError('UPLOAD_TOO_LARGE', `upload exceeds the limit of ${maxBytes} bytes`);

  return {
    async add(part: MultipartFile): Promise<void> {
      dir ??= await mkdtemp(join(tmpdir(), 'updraft-publish-'));
      const path = join(dir, String(spooled.length));
      await pipeline(part.file, createWriteStream(path, { mode: 0o600 }));
      total += (await stat(path)).size;
      if (part.file.truncated || total > maxBytes) throw tooLarge();
      spooled.push({ field: part.fieldname, path, contentType: part.mimetype });
    },

    async *files(): AsyncGenerator<IncomingFile> {
      for (const s of spooled) {
        yield { field: s.field, source: createReadStream(s.path), contentType: s.contentType };
      }
    },

    async cleanup(): Promise<void> {
      if (dir) await rm(dir, { recursive: true, force: true });
      dir = undefined;
    },
  };
}
