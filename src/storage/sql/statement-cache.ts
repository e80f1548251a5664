import type { Database as SQLiteDatabase, Statement } from 'better-sqlite3';
import type { SqliteDatabase } from 'kysely';

/**
 * kysely's SQLite driver prepares every query anew; on the check-in path that was about 12 % of CPU
 * (docs/benchmarks.md). Queries are built from a handful of shapes, so the prepared statements are kept,
 * least recently used out first. Only `all`/`run` are used (kysely streams nothing here), which a cached
 * better-sqlite3 statement may serve again and again.
 */
export function withStatementCache(sqlite: SQLiteDatabase, max = 500): SqliteDatabase {
  const cache = new Map<string, Statement>();
  return {
    close: () => void sqlite.close(),
    prepare(sql: string) {
      let statement = cache.get(sql);
      if (statement) {
        cache.delete(sql);
      } else {
        statement = sqlite.prepare(sql);
        if (cache.size >= max) cache.delete(cache.keys().next().value as string);
      }
      cache.set(sql, statement);
      return statement;
    },
  };
}
