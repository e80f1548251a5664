import { sql, type Kysely } from 'kysely';
import type { AuditEntry, AuditRepository } from '../../core/audit/types.js';
import type { Database } from './schema.js';

export function createSqlAuditRepository(db: Kysely<Database>): AuditRepository {
  return {
    async record(e) {
      await db
        .insertInto('audit_log')
        .values({
          at: e.at,
          actor_id: e.actor.id,
          actor_name: e.actor.name,
          address: e.address,
          action: e.action,
          target: e.target,
          detail: e.detail ? JSON.stringify(e.detail) : null,
        })
        .execute();
    },

    async list(q) {
      let query = db.selectFrom('audit_log').selectAll();
      if (q.actor) {
        const actor = q.actor;
        query = query.where((eb) => eb.or([eb('actor_name', '=', actor), eb('actor_id', '=', actor)]));
      }
      if (q.action) {
        const action = q.action;
        query = query.where((eb) =>
          eb.or([
            eb('action', '=', action),
            eb('action', 'like', sql<string>`${`${escapeLike(action)}.%`} escape '\\'`),
          ]),
        );
      }
      if (q.target) {
        const target = q.target;
        query = query.where((eb) =>
          eb.or([
            eb('target', '=', target),
            eb('target', 'like', sql<string>`${`${escapeLike(target)}@%`} escape '\\'`),
          ]),
        );
      }
      if (q.since) query = query.where('at', '>=', q.since);
      if (q.until) query = query.where('at', '<', q.until);
      if (q.before !== undefined) query = query.where('id', '<', q.before);
      const rows = await query.orderBy('id', 'desc').limit(q.limit).execute();
      return rows.map((r): AuditEntry => ({
        id: Number(r.id),
        at: r.at,
        actor: { id: r.actor_id, name: r.actor_name },
        address: r.address,
        action: r.action,
        target: r.target,
        detail: r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : null,
      }));
    },
  };
}

/** LIKE patterns treat `%` and `_` as wildcards; names may contain `_`. Escaped with `\` (ESCAPE below). */
function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}
