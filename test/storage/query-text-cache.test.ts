import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Kysely, SqliteDialect } from 'kysely';
import Database from 'better-sqlite3';
import { createQueryTextCache } from '../../src/storage/sql/query-text-cache.js';

interface Db {
  t: { id: string; n: number };
}

describe('query text cache', () => {
  const db = new Kysely<Db>({ dialect: new SqliteDialect({ database: new Database(':memory:') }) });
  const byIds = (ids: string[]) => db.selectFrom('t').selectAll().where('id', 'in', ids).compile();

  it('builds a shape once, then reuses its text with the new parameters', () => {
    const compiled = createQueryTextCache();
    let builds = 0;
    const first = compiled('by-id:2', ['a', 'b'], () => (builds++, byIds(['a', 'b'])));
    const second = compiled('by-id:2', ['c', 'd'], () => (builds++, byIds(['c', 'd'])));
    assert.equal(builds, 1);
    assert.equal(second.sql, first.sql);
    assert.deepEqual(second.parameters, ['c', 'd']);
  });

  it('refuses parameters listed in another order than the query has them', () => {
    const compiled = createQueryTextCache();
    assert.throws(() => compiled('by-id:2', ['b', 'a'], () => byIds(['a', 'b'])), /another order/);
    assert.throws(() => compiled('by-id:2', ['a'], () => byIds(['a', 'b'])), /another order/);
  });

  it('keeps at most maxChars of text, dropping the least recently used', () => {
    const text = byIds(['a', 'b']).sql.length;
    const compiled = createQueryTextCache(text * 2);
    let builds = 0;
    const build = (ids: string[]) => () => (builds++, byIds(ids));
    compiled('x', ['a', 'b'], build(['a', 'b']));
    compiled('y', ['a', 'b'], build(['a', 'b']));
    compiled('z', ['a', 'b'], build(['a', 'b']));
    compiled('x', ['a', 'b'], build(['a', 'b']));
    assert.equal(builds, 4, 'x was dropped for z');
  });
});
