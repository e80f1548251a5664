import type { Kysely } from 'kysely';
import type { SettingsRepository } from '../../core/settings.js';
import type { Database } from './schema.js';
import { inTransaction } from './in-transaction.js';

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
    async increment(key, atLeast) {
      return inTransaction(db, async (trx) => {
        const row = await trx
          .selectFrom('settings')
          .select('value')
          .where('key', '=', key)
          .executeTakeFirst();
        const next = Math.max(Number(row?.value ?? 0) + 1, atLeast);
        await trx
          .insertInto('settings')
          .values({ key, value: String(next) })
          .onConflict((oc) => oc.column('key').doUpdateSet({ value: String(next) }))
          .execute();
        return next;
      });
    },
  };
}
