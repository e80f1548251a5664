import type { Kysely } from 'kysely';
import type { Group, GroupRepository, TagRepository } from '../../core/groups/types.js';
import type { Database } from './schema.js';
import { inTransaction } from './in-transaction.js';

export function createSqlGroupRepository(db: Kysely<Database>): GroupRepository {
  const toGroup = (r: Database['device_groups']): Group => ({
    name: r.name,
    kind: r.kind as Group['kind'],
    filter: r.filter,
    devices: JSON.parse(r.members) as string[],
    createdAt: r.created_at,
  });
  return {
    async list() {
      return (await db.selectFrom('device_groups').selectAll().orderBy('name').execute()).map(toGroup);
    },
    async get(name) {
      const r = await db.selectFrom('device_groups').selectAll().where('name', '=', name).executeTakeFirst();
      return r && toGroup(r);
    },
    async create(g) {
      const r = await db
        .insertInto('device_groups')
        .values({
          name: g.name,
          kind: g.kind,
          filter: g.filter,
          members: JSON.stringify(g.devices),
          created_at: g.createdAt,
        })
        .onConflict((oc) => oc.column('name').doNothing())
        .executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows) === 1;
    },
    async delete(name) {
      const r = await db.deleteFrom('device_groups').where('name', '=', name).executeTakeFirst();
      return Number(r.numDeletedRows) === 1;
    },
  };
}

export function createSqlTagRepository(db: Kysely<Database>): TagRepository {
  async function add(deviceId: string, tags: string[], trx: Kysely<Database> = db) {
    if (tags.length === 0) return;
    await trx
      .insertInto('device_tags')
      .values(tags.map((tag) => ({ device_id: deviceId, tag })))
      .onConflict((oc) => oc.columns(['device_id', 'tag']).doNothing())
      .execute();
  }
  return {
    async all() {
      const out = new Map<string, string[]>();
      for (const r of await db.selectFrom('device_tags').selectAll().orderBy('tag').execute()) {
        const list = out.get(r.device_id) ?? [];
        list.push(r.tag);
        out.set(r.device_id, list);
      }
      return out;
    },
    async of(deviceId) {
      const rows = await db
        .selectFrom('device_tags')
        .select('tag')
        .where('device_id', '=', deviceId)
        .orderBy('tag')
        .execute();
      return rows.map((r) => r.tag);
    },
    add: (deviceId, tags) => add(deviceId, tags),
    async remove(deviceId, tags) {
      if (tags.length === 0) return;
      await db.deleteFrom('device_tags').where('device_id', '=', deviceId).where('tag', 'in', tags).execute();
    },
    async set(deviceId, tags) {
      await inTransaction(db, async (trx) => {
        await trx.deleteFrom('device_tags').where('device_id', '=', deviceId).execute();
        await add(deviceId, tags, trx);
      });
    },
  };
}
