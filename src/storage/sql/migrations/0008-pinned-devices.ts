import { sql, type Kysely } from 'kysely';
import type { SqlDialect } from '../connection.js';

/**
 * The check-in path holds every operator pin in memory and reloads them every `pinCacheTtlMs` (2 s) with
 * `where pinned_version is not null`: without an index that is a scan of the whole registry, which at
 * 1,000,000 devices stalled the event loop (SQLite is synchronous) for hundreds of milliseconds every two
 * seconds (issue 16). Pins are few, so a partial index holds only them (SQLite and PostgreSQL both have them).
 */
export async function up(db: Kysely<unknown>, _dialect: SqlDialect): Promise<void> {
  await db.schema
    .createIndex('devices_pinned')
    .on('devices')
    .column('id')
    .where(sql.ref('pinned_version'), 'is not', null)
    .execute();
}
