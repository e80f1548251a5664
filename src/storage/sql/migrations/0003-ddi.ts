import type { Kysely } from 'kysely';
import type { SqlDialect } from '../connection.js';

/**
 * hawkBit DDI clients verify artifacts by SHA-1 (SWUpdate's suricatta, rauc-hawkbit-updater): every artifact gets
 * a `sha1` column. A migration sees only the database, not the blob store, so artifacts stored before this one
 * keep `null` here and the start-up backfill (storage/sql/backfill-sha1.ts) computes theirs from the blobs.
 */
export async function up(db: Kysely<unknown>, _dialect: SqlDialect): Promise<void> {
  await db.schema.alterTable('artifacts').addColumn('sha1', 'text').execute();
}
