import { sql, type Kysely, type Transaction } from 'kysely';
import type { BlobGcRepository } from '../../core/blobs/blob-gc.js';
import type { Database } from './schema.js';

/** Bounded IN lists: SQLite allows 32,766 parameters per statement, PostgreSQL 65,535. */
const BATCH = 500;

/**
 * Takes the per-blob lock: an upsert on the blob's `blob_gc` row is the first statement of the transaction, so on
 * PostgreSQL a second transaction for the same blob waits for this one to commit (and then, under READ COMMITTED,
 * sees what it wrote), and on SQLite the transaction holds the write lock from its first statement.
 */
async function lock(trx: Transaction<Database>, sha256: string, set: { orphan_since?: null }): Promise<void> {
  await trx
    .insertInto('blob_gc')
    .values({ sha256, orphan_since: null, deleting_since: null })
    .onConflict((oc) =>
      oc
        .column('sha256')
        .doUpdateSet(
          set.orphan_since === null ? { orphan_since: null } : { sha256: (eb) => eb.ref('excluded.sha256') },
        ),
    )
    .execute();
}

export function createSqlBlobGcRepository(db: Kysely<Database>): BlobGcRepository {
  return {
    async hold(uploadId, sha256, expiresAt) {
      return db.transaction().execute(async (trx) => {
        // A hold makes the blob used again: its orphan time is forgotten.
        await lock(trx, sha256, { orphan_since: null });
        await trx
          .insertInto('blob_holds')
          .values({ upload_id: uploadId, sha256, expires_at: expiresAt })
          .onConflict((oc) => oc.columns(['upload_id', 'sha256']).doUpdateSet({ expires_at: expiresAt }))
          .execute();
        const row = await trx
          .selectFrom('blob_gc')
          .select('deleting_since')
          .where('sha256', '=', sha256)
          .executeTakeFirst();
        return { deleting: Boolean(row?.deleting_since) };
      });
    },

    async isDeleting(sha256, staleBefore) {
      const row = await db
        .selectFrom('blob_gc')
        .select('deleting_since')
        .where('sha256', '=', sha256)
        .executeTakeFirst();
      return Boolean(row?.deleting_since && row.deleting_since > staleBefore);
    },

    async renew(uploadId, expiresAt) {
      await db
        .updateTable('blob_holds')
        .set({ expires_at: expiresAt })
        .where('upload_id', '=', uploadId)
        .execute();
    },

    async release(uploadId) {
      await db.deleteFrom('blob_holds').where('upload_id', '=', uploadId).execute();
    },

    async dropExpiredHolds(now) {
      const result = await db.deleteFrom('blob_holds').where('expires_at', '<=', now).executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    async inUse(now) {
      const referenced = await db.selectFrom('artifacts').select('sha256').distinct().execute();
      const held = await db
        .selectFrom('blob_holds')
        .select('sha256')
        .where('expires_at', '>', now)
        .distinct()
        .execute();
      return new Set([...referenced, ...held].map((r) => r.sha256));
    },

    async noteOrphans(sha256s, now) {
      const since = new Map<string, string>();
      // In key order, so two collectors (two replicas) lock rows in the same order and never deadlock.
      const sorted = [...sha256s].sort();
      for (let i = 0; i < sorted.length; i += BATCH) {
        const batch = sorted.slice(i, i + BATCH);
        await db
          .insertInto('blob_gc')
          .values(batch.map((sha256) => ({ sha256, orphan_since: now, deleting_since: null })))
          .onConflict((oc) =>
            oc.column('sha256').doUpdateSet({ orphan_since: sql`coalesce(blob_gc.orphan_since, ${now})` }),
          )
          .execute();
        const rows = await db
          .selectFrom('blob_gc')
          .select(['sha256', 'orphan_since'])
          .where('sha256', 'in', batch)
          .execute();
        for (const r of rows) if (r.orphan_since) since.set(r.sha256, r.orphan_since);
      }
      return since;
    },

    async forgetInUse(now) {
      await db
        .deleteFrom('blob_gc')
        .where('deleting_since', 'is', null)
        .where((eb) =>
          eb.or([
            eb('sha256', 'in', eb.selectFrom('artifacts').select('sha256')),
            eb('sha256', 'in', eb.selectFrom('blob_holds').select('sha256').where('expires_at', '>', now)),
          ]),
        )
        .execute();
    },

    async claimForDeletion(sha256, now, orphanBefore) {
      return db.transaction().execute(async (trx) => {
        await lock(trx, sha256, {});
        const row = await trx
          .selectFrom('blob_gc')
          .select(['orphan_since', 'deleting_since'])
          .where('sha256', '=', sha256)
          .executeTakeFirst();
        if (!row?.orphan_since || row.orphan_since > orphanBefore || row.deleting_since) return false;
        const referenced = await trx
          .selectFrom('artifacts')
          .select('sha256')
          .where('sha256', '=', sha256)
          .limit(1)
          .executeTakeFirst();
        const held = await trx
          .selectFrom('blob_holds')
          .select('sha256')
          .where('sha256', '=', sha256)
          .where('expires_at', '>', now)
          .limit(1)
          .executeTakeFirst();
        if (referenced || held) {
          await trx.updateTable('blob_gc').set({ orphan_since: null }).where('sha256', '=', sha256).execute();
          return false;
        }
        await trx.updateTable('blob_gc').set({ deleting_since: now }).where('sha256', '=', sha256).execute();
        return true;
      });
    },

    async finishDeletion(sha256, deleted) {
      if (deleted) await db.deleteFrom('blob_gc').where('sha256', '=', sha256).execute();
      else
        await db.updateTable('blob_gc').set({ deleting_since: null }).where('sha256', '=', sha256).execute();
    },
  };
}
