import { CompiledQuery } from 'kysely';
import { LRUCache } from 'lru-cache';

/**
 * The SQL text of a hot query, built with kysely once per shape (the statement and how many rows or ids it
 * carries) and then reused with each call's parameters. In the write-behind flush, building and compiling the
 * multi-row device upsert for every chunk cost about a fifth of the writer thread's instructions (callgrind,
 * docs/benchmarks.md, issue 16). The database sees the same SQL text as before, so SQLite's statement cache
 * (statement-cache.ts) and PostgreSQL's plans apply as they did.
 *
 * On a miss the query is built as it would be without the cache, and its parameters must be the ones the
 * caller listed, in the same order: that check keeps the caller's parameter order honest whatever kysely does.
 */
export function createQueryTextCache(maxChars = 4 * 1024 * 1024) {
  // Bounded by text, not count: a PostgreSQL upsert of 1,000 rows is about 100 kB of SQL, an id lookup 2 kB.
  const texts = new LRUCache<string, string>({ maxSize: maxChars, sizeCalculation: (text) => text.length });
  return function compiled<R>(
    shape: string,
    parameters: unknown[],
    build: () => CompiledQuery<R>,
  ): CompiledQuery<R> {
    const text = texts.get(shape);
    if (text !== undefined) return CompiledQuery.raw(text, parameters) as CompiledQuery<R>;
    const query = build();
    const same =
      query.parameters.length === parameters.length && query.parameters.every((p, i) => p === parameters[i]);
    if (!same) throw new Error(`query-text-cache: "${shape}" was given its parameters in another order`);
    texts.set(shape, query.sql);
    return query;
  };
}
