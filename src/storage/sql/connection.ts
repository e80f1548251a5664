import { Kysely, Migrator, sql, type Migration } from 'kysely';
import { ImmediateSqliteDialect } from './sqlite-dialect.js';
import { SchemaScopedPostgresDialect } from './postgres-dialect.js';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Database } from './schema.js';
import { withStatementCache } from './statement-cache.js';
import { createSqliteCheckInWriter, type SqliteCheckInWriter } from './device-writer.js';
import { withSqlErrorMapping } from './sql-errors.js';
import * as m0001 from './migrations/0001-initial.js';
import * as m0006 from './migrations/0006-audit.js';
import * as m0002 from './migrations/0002-deployments.js';
import * as m0003 from './migrations/0003-ddi.js';
import * as m0004 from './migrations/0004-blob-gc.js';
import * as m0007 from './migrations/0007-versions.js';
import * as m0008 from './migrations/0008-pinned-devices.js';

export type SqlDialect = 'sqlite' | 'postgres';

export interface SqlConnection {
  db: Kysely<Database>;
  dialect: SqlDialect;
  /**
   * SQLite on a file: the write-behind flush runs on a worker thread with its own connection to the file
   * (device-writer.ts) once a flush is slow enough to need it, or after `start()`. Absent on PostgreSQL (its
   * writes are asynchronous already) and for ":memory:" (a second connection would open a different, empty
   * database).
   */
  checkInWriter?: SqliteCheckInWriter;
  /** Drains and stops the check-in writer, then closes the connection. */
  close(): Promise<void>;
}

/** A better-sqlite3 connection as Updraft uses it, behind kysely: the main one and the check-in writer's. */
export async function openSqlite(
  path: string,
  { onOpen }: { onOpen?: (sqlite: import('better-sqlite3').Database) => void } = {},
): Promise<Kysely<Database>> {
  const { default: SQLite } = await import('better-sqlite3');
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new SQLite(path);
  // WAL: readers never block the write-behind flush; synchronous=NORMAL is durable across process crashes
  // (a kill -9), which is the failure the product promises to survive.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  onOpen?.(sqlite);
  return new Kysely<Database>({
    dialect: withSqlErrorMapping(new ImmediateSqliteDialect({ database: withStatementCache(sqlite) })),
  });
}

/** `sqlite:<path>` (or a bare path) or `postgres://...`. */
export async function openDatabase(url: string): Promise<SqlConnection> {
  if (/^postgres(ql)?:\/\//.test(url)) {
    const { default: pg } = await import('pg');
    // Sizes and counts come back as numbers (int8), not strings: none of ours exceeds 2^53.
    pg.types.setTypeParser(20, (v: string) => Number(v));
    const pool = new pg.Pool({ connectionString: url, max: 10 });
    const db = new Kysely<Database>({
      dialect: withSqlErrorMapping(new SchemaScopedPostgresDialect({ pool })),
    });
    return { db, dialect: 'postgres', close: () => db.destroy() };
  }
  const path = url.replace(/^sqlite:/, '');
  let main: import('better-sqlite3').Database | undefined;
  const db = await openSqlite(path, { onOpen: (sqlite) => (main = sqlite) });
  if (path === ':memory:') return { db, dialect: 'sqlite', close: () => db.destroy() };
  // Once the worker runs, checkpoints are its job: SQLite checkpoints in the connection that commits past the
  // threshold, and with the writer's pages in the WAL that would often be a deployment step on this thread.
  const checkInWriter = createSqliteCheckInWriter(resolve(path), {
    onStart: () => main?.pragma('wal_autocheckpoint = 0'),
  });
  return {
    db,
    dialect: 'sqlite',
    checkInWriter,
    async close() {
      await checkInWriter.close();
      await db.destroy();
    },
  };
}

const MIGRATIONS: Record<string, { up(db: Kysely<unknown>, dialect: SqlDialect): Promise<void> }> = {
  '0001-initial': m0001,
  '0006-audit': m0006,
  '0002-deployments': m0002,
  '0003-ddi': m0003,
  '0004-blob-gc': m0004,
  '0007-versions': m0007,
  '0008-pinned-devices': m0008,
};

/** Runs pending migrations in order; called at start-up before anything else touches the database. */
export async function migrate(connection: SqlConnection): Promise<void> {
  const migrations: Record<string, Migration> = {};
  for (const [name, migration] of Object.entries(MIGRATIONS)) {
    migrations[name] = { up: (db) => migration.up(db, connection.dialect) };
  }
  // On PostgreSQL the migration tables live in the connection's own schema (several instances, or test
  // runs, may share a database); kysely would otherwise look them up across every schema.
  const schema =
    connection.dialect === 'postgres'
      ? (await sql<{ s: string }>`select current_schema() as s`.execute(connection.db)).rows[0]?.s
      : undefined;
  const migrator = new Migrator({
    db: connection.db,
    provider: { getMigrations: async () => migrations },
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error;
}
