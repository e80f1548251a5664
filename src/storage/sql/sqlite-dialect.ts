import {
  CompiledQuery,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type Driver,
  type SqliteDialectConfig,
} from 'kysely';

/**
 * Kysely's SQLite dialect with transactions that take the write lock when they begin (`BEGIN IMMEDIATE`).
 *
 * Why: the database file has two writers, this connection and the check-in writer's on its worker thread
 * (device-writer.ts). Kysely begins with a plain `BEGIN` (deferred): a transaction whose first statement reads
 * (a product's settings before changing them, an empty PATCH before its audit record) holds a read snapshot, and
 * when the other connection commits before that transaction's first write, the write fails at once with
 * SQLITE_BUSY, whatever the busy timeout (https://sqlite.org/lang_transaction.html, "Deferred, Immediate, and
 * Exclusive Transactions"; https://sqlite.org/wal.html, "Sometimes Queries Return SQLITE_BUSY In WAL Mode").
 * Beginning immediate makes the other writer wait on `busy_timeout` instead. Our transactions exist to write, so
 * this serialises nothing that could have run beside the other.
 */
export class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;

  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }
}

class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}
