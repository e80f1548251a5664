import type { Kysely } from 'kysely';
import { DomainError } from '../../core/errors.js';
import type { TokenKind, TokenRecord, TokenRepository } from '../../core/tokens/types.js';
import type { Database } from './schema.js';
import { isUniqueViolation } from './sql-errors.js';

export function createSqlTokenRepository(db: Kysely<Database>): TokenRepository {
  return {
    async create(t) {
      try {
        await db
          .insertInto('tokens')
          .values({
            id: t.id,
            kind: t.kind,
            name: t.name,
            hash: t.hash,
            product: t.product,
            device: t.device,
            created_at: t.createdAt,
          })
          .execute();
      } catch (err) {
        if (isUniqueViolation(err)) throw new DomainError('INVALID_INPUT', 'that token already exists');
        throw err;
      }
    },
    async list(kind) {
      let q = db.selectFrom('tokens').selectAll();
      if (kind) q = q.where('kind', '=', kind);
      const rows = await q.orderBy('created_at').execute();
      return rows.map((r): TokenRecord => ({
        id: r.id,
        kind: r.kind as TokenKind,
        name: r.name,
        hash: r.hash,
        product: r.product,
        device: r.device,
        createdAt: r.created_at,
      }));
    },
    async delete(id) {
      const result = await db.deleteFrom('tokens').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}
