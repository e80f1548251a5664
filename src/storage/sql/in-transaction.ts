import type { Kysely, Transaction } from 'kysely';

/**
 * Runs `work` in a transaction, or in the caller's when `db` already is one: repositories bound to a unit of
 * work (unit-of-work.ts) then take part in it instead of opening a nested transaction kysely does not support.
 */
export function inTransaction<DB, T>(db: Kysely<DB>, work: (trx: Transaction<DB>) => Promise<T>): Promise<T> {
  return db.isTransaction ? work(db as Transaction<DB>) : db.transaction().execute(work);
}
