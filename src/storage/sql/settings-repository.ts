import { sql, type Kysely } from 'kysely';
import type { SettingsRepository } from '../../core/settings.js';
import type { Database } from './schema.js';

export function createSqlSettingsRepository(db: Kysely<Database>): SettingsRepository {
  return {
    async get(key) {
      const row = await db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst();
      return row?.value;
    },
    async set(key, value) {
      await db
        .insertInto('settings')
        .values({ key, value })
        .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
        .execute();
    },
    async list(prefix) {
      const rows = await db
        .selectFrom('settings')
        .selectAll()
        .where('key', '>=', prefix)
        .where('key', '<', `${prefix}\uffff`)
        .orderBy('key')
        .execute();
      return rows.map((r): [string, string] => [r.key, r.value]);
    },
    async delete(key) {
      await db.deleteFrom('settings').where('key', '=', key).execute();
    },
    /**
     * One statement, so it is atomic on both dialects without a transaction: PostgreSQL's upsert locks the row
     * and re-evaluates the update against the value a concurrent one committed (READ COMMITTED included), and
     * SQLite writes one statement at a time. A read-then-write here let two replicas hand out the same SUIT
     * sequence number.
     */
    async increment(key, atLeast) {
      const next = sql<string>`cast(case when cast(settings.value as bigint) + 1 > ${atLeast}
        then cast(settings.value as bigint) + 1 else ${atLeast} end as text)`;
      const row = await db
        .insertInto('settings')
        .values({ key, value: String(Math.max(1, atLeast)) })
        .onConflict((oc) => oc.column('key').doUpdateSet({ value: next }))
        .returning('value')
        .executeTakeFirstOrThrow();
      return Number(row.value);
    },
  };
}
