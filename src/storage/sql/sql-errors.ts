import type {
  CompiledQuery,
  DatabaseConnection,
  DatabaseIntrospector,
  Dialect,
  DialectAdapter,
  Driver,
  Kysely,
  QueryCompiler,
  QueryResult,
  TransactionSettings,
} from 'kysely';
import { DomainError } from '../../core/errors.js';

/** SQLite (`SQLITE_CONSTRAINT_UNIQUE`/`_PRIMARYKEY`) and PostgreSQL (23505) spell a unique violation differently. */
export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/**
 * A write that failed because the database's disk is full: SQLite's `SQLITE_FULL` (https://sqlite.org/rescode.html#full,
 * what its VFS answers for ENOSPC) and PostgreSQL's SQLSTATE 53100 `disk_full`
 * (https://www.postgresql.org/docs/current/errcodes-appendix.html), raised when a table or index file cannot grow.
 */
export function isStorageFull(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return code === '53100' || code === 'SQLITE_FULL';
}

/** The domain error for a full database, the same code the blob store gives for ENOSPC (507 over HTTP). */
export function mapSqlError(err: unknown): unknown {
  if (!isStorageFull(err)) return err;
  return new DomainError(
    'STORAGE_FULL',
    'the database has no room left for this change; nothing of it was kept',
    {
      cause: (err as Error).message,
    },
  );
}

/** better-sqlite3's answer to `rollback` when SQLite already rolled the transaction back itself. */
function isNoTransaction(err: unknown): boolean {
  return /no transaction is active/.test((err as Error)?.message ?? '');
}

class MappedConnection implements DatabaseConnection {
  constructor(readonly inner: DatabaseConnection) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    try {
      // Awaited inside the try: kysely's SQLite connection throws synchronously.
      return await this.inner.executeQuery<R>(query);
    } catch (err) {
      throw mapSqlError(err);
    }
  }

  async *streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    try {
      yield* this.inner.streamQuery<R>(query, chunkSize);
    } catch (err) {
      throw mapSqlError(err);
    }
  }
}

class MappedDriver implements Driver {
  readonly #inner: Driver;
  readonly #wrappers = new WeakMap<DatabaseConnection, MappedConnection>();

  constructor(inner: Driver) {
    this.#inner = inner;
  }

  init(): Promise<void> {
    return this.#inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await this.#inner.acquireConnection();
    let wrapper = this.#wrappers.get(connection);
    if (!wrapper) {
      wrapper = new MappedConnection(connection);
      this.#wrappers.set(connection, wrapper);
    }
    return wrapper;
  }

  // Both kysely drivers run begin/commit/rollback/savepoints as queries on the connection they are given: the
  // wrapper's, so a COMMIT that finds the disk full is mapped too.
  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.#inner.beginTransaction(connection, settings);
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#inner.commitTransaction(connection);
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    try {
      await this.#inner.rollbackTransaction(connection);
    } catch (err) {
      // SQLite may roll back by itself on SQLITE_FULL (https://sqlite.org/lang_transaction.html, "Response To
      // Errors Within A Transaction"); kysely's rollback would then throw and hide the error that caused it.
      if (!isNoTransaction(err)) throw err;
    }
  }

  async savepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    await this.#inner.savepoint?.(connection, name, compile);
  }

  async rollbackToSavepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    await this.#inner.rollbackToSavepoint?.(connection, name, compile);
  }

  async releaseSavepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    await this.#inner.releaseSavepoint?.(connection, name, compile);
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    // The PostgreSQL driver releases through a private member of its own connection object.
    return this.#inner.releaseConnection(
      connection instanceof MappedConnection ? connection.inner : connection,
    );
  }

  destroy(): Promise<void> {
    return this.#inner.destroy();
  }
}

/**
 * A dialect whose every query (and transaction statement) turns a full disk into `STORAGE_FULL`, on SQLite and
 * PostgreSQL alike, so every route answers it the same way the blob store's ENOSPC is answered. The transaction
 * the write was part of is rolled back as for any other error: nothing of it is kept.
 */
export function withSqlErrorMapping(dialect: Dialect): Dialect {
  return {
    createDriver: () => new MappedDriver(dialect.createDriver()),
    createQueryCompiler: (): QueryCompiler => dialect.createQueryCompiler(),
    createAdapter: (): DialectAdapter => dialect.createAdapter(),
    createIntrospector: (db: Kysely<unknown>): DatabaseIntrospector => dialect.createIntrospector(db),
  };
}
