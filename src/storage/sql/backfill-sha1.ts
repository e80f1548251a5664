import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { BlobStore } from '../../core/blobs/blob-store.js';
import type { Database } from './schema.js';

/**
 * Fills `artifacts.sha1` for rows stored before migration 0003 by reading each blob once (blobs are shared by
 * sha256, so one digest serves every row of that blob). Run at start-up after the migrations, before any port
 * opens; idempotent, and a blob that is missing is skipped (logged by the caller) rather than failing start-up.
 */
export async function backfillSha1(
  db: Kysely<Database>,
  blobs: BlobStore,
): Promise<{ filled: number; missing: string[] }> {
  const rows = await db
    .selectFrom('artifacts')
    .select('sha256')
    .distinct()
    .where('sha1', 'is', null)
    .execute();
  let filled = 0;
  const missing: string[] = [];
  for (const { sha256 } of rows) {
    let digest: string;
    try {
      const hash = createHash('sha1');
      for await (const chunk of await blobs.createReadStream(sha256)) hash.update(chunk as Buffer);
      digest = hash.digest('hex');
    } catch {
      missing.push(sha256);
      continue;
    }
    const result = await db
      .updateTable('artifacts')
      .set({ sha1: digest })
      .where('sha256', '=', sha256)
      .where('sha1', 'is', null)
      .executeTakeFirst();
    filled += Number(result.numUpdatedRows);
  }
  return { filled, missing };
}
