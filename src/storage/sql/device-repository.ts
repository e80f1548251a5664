import {
  sql,
  type Expression,
  type ExpressionBuilder,
  type Kysely,
  type Selectable,
  type SqlBool,
} from 'kysely';
import type { DeviceRepository } from '../../core/devices/ports.js';
import { foldCheckIns, type CheckInBatch, type DeviceMove } from '../../core/devices/fold-check-ins.js';
import type { Device, DeviceEvent, DeviceEventKind } from '../../core/devices/types.js';
import type { Database } from './schema.js';
import { inTransaction } from './in-transaction.js';
import type { SqlDialect } from './connection.js';
import { createQueryTextCache } from './query-text-cache.js';

const toDevice = (r: Selectable<Database['devices']>): Device => ({
  id: r.id,
  product: r.product,
  version: r.version,
  firstSeen: r.first_seen,
  lastSeen: r.last_seen,
  lastUpdate: r.last_update,
  address: r.address,
  protocol: r.protocol,
  userAgent: r.user_agent,
  lastOffered: r.last_offered,
  lastOutcome: r.last_outcome as Device['lastOutcome'],
  pinnedVersion: r.pinned_version,
  attributes: JSON.parse(r.attributes) as Record<string, string>,
});

const toRow = (d: Device): Database['devices'] => ({
  id: d.id,
  product: d.product,
  version: d.version,
  first_seen: d.firstSeen,
  last_seen: d.lastSeen,
  last_update: d.lastUpdate,
  address: d.address,
  protocol: d.protocol,
  user_agent: d.userAgent,
  last_offered: d.lastOffered,
  last_outcome: d.lastOutcome,
  pinned_version: d.pinnedVersion,
  attributes: JSON.stringify(d.attributes),
});

/** The columns of `toRow`, in its order: the order of each row's parameters in the cached upsert. */
const DEVICE_COLUMNS = [
  'id',
  'product',
  'version',
  'first_seen',
  'last_seen',
  'last_update',
  'address',
  'protocol',
  'user_agent',
  'last_offered',
  'last_outcome',
  'pinned_version',
  'attributes',
] as const satisfies readonly (keyof Database['devices'])[];

function rowParameters(rows: Database['devices'][]): unknown[] {
  const parameters: unknown[] = [];
  for (const row of rows) for (const column of DEVICE_COLUMNS) parameters.push(row[column]);
  return parameters;
}

const SORT_COLUMNS = {
  id: 'id',
  product: 'product',
  version: 'version',
  lastSeen: 'last_seen',
  lastUpdate: 'last_update',
  firstSeen: 'first_seen',
} as const;

// SQLite caps bound parameters per statement; chunk large IN lists and multi-row inserts.
const CHUNK = 400;
function chunks<T>(items: T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * How a written-behind device row merges with the stored one. Several replicas (or workers) each buffer their own
 * check-ins and flush them on their own schedule, so a batch may arrive after a newer one from elsewhere: the
 * record of the newest check-in wins as a whole (version, address, offer and outcome), `last_seen` never goes
 * backwards (GREATEST; SQLite's two-argument MAX) and `first_seen` never forwards. Times are ISO-8601 UTC text,
 * which orders as time.
 */
function mergeNewest(dialect: SqlDialect) {
  const [greatest, least] = dialect === 'postgres' ? ['greatest', 'least'] : ['max', 'min'];
  const newer = sql<boolean>`excluded.last_seen >= devices.last_seen`;
  const pick = (column: string) =>
    sql<
      string | null
    >`case when ${newer} then excluded.${sql.ref(column)} else devices.${sql.ref(column)} end`;
  return {
    first_seen: sql<string>`${sql.raw(least)}(devices.first_seen, excluded.first_seen)`,
    last_seen: sql<string>`${sql.raw(greatest)}(devices.last_seen, excluded.last_seen)`,
    product: pick('product'),
    version: pick('version'),
    last_update: pick('last_update'),
    address: pick('address'),
    protocol: pick('protocol'),
    user_agent: pick('user_agent'),
    last_offered: pick('last_offered'),
    last_outcome: pick('last_outcome'),
    attributes: sql<string>`${pick('attributes')}`,
  };
}

/**
 * The merge for a row whose product and version the writer read as the stored ones: everything but those two
 * columns. SQLite rewrites an index whenever its columns are assigned, even to the same value, so leaving them out
 * keeps the (product, version) index untouched; at 1,000,000 devices that index's scattered pages were a quarter
 * of the writer's bytes written per check-in (bench/writer/check-ins.mjs). The upsert's WHERE checks the belief
 * (IS NOT DISTINCT FROM: null-safe, SQLite 3.39+ and PostgreSQL): a row whose stored identity has moved since it
 * was read is left as it is, and `upsertDevices` writes it again with the full merge. PostgreSQL gains nothing
 * here (an update that changes `last_seen`, which is indexed, adds entries to every index anyway) and takes the
 * same path, so that both dialects run, and the contract suites test, one.
 */
function mergeKeepingIdentity(dialect: SqlDialect) {
  const { product: _product, version: _version, ...rest } = mergeNewest(dialect);
  return rest;
}
const identityUnchanged = sql<SqlBool>`devices.product is not distinct from excluded.product and devices.version is not distinct from excluded.version`;

/**
 * Decides where a batch of check-ins is written: with `writeHere` (this repository on this thread) or somewhere
 * else (SQLite: device-writer.ts, a worker thread once the flush is slow enough to need one).
 */
export interface CheckInWriter {
  writeCheckIns(
    batch: CheckInBatch,
    writeHere: (batch: CheckInBatch) => Promise<DeviceMove[]>,
  ): Promise<DeviceMove[]>;
}

const NONE: ReadonlySet<string> = new Set();

/** The port, and what the flush tells `saveBatch` here: which rows' product and version it read as stored. */
export interface SqlDeviceRepository extends DeviceRepository {
  saveBatch(
    batch: Parameters<DeviceRepository['saveBatch']>[0],
    sameIdentity?: ReadonlySet<string>,
  ): Promise<void>;
}

/**
 * The device repository. `writer`, when given, takes the write-behind flush (`writeCheckIns`) off this thread;
 * every other operation runs on `db`.
 */
export function createSqlDeviceRepository(
  db: Kysely<Database>,
  dialect: SqlDialect,
  writer?: CheckInWriter,
): SqlDeviceRepository {
  // Rows per multi-row upsert (13 parameters a row): SQLite's statements stay short (its parameter limit, and
  // the write lock other connections wait for); PostgreSQL takes a whole flush chunk in one statement (65,535).
  const devicesPerInsert = dialect === 'postgres' ? 1000 : 60;
  const eventsPerInsert = dialect === 'postgres' ? 2000 : 150;
  // The flush's statements are the same few shapes over and over: their SQL text is built once per shape.
  const compiled = createQueryTextCache();
  const upsertMerge = mergeNewest(dialect);
  const keepIdentityMerge = mergeKeepingIdentity(dialect);

  async function getMany(ids: string[]): Promise<Map<string, Device>> {
    const found = new Map<string, Device>();
    if (dialect === 'postgres') {
      // One round trip for the whole batch: `= any(array)` takes one parameter however many ids.
      const rows = ids.length
        ? await db
            .selectFrom('devices')
            .selectAll()
            .where(sql<boolean>`id = any(${ids}::text[])`)
            .execute()
        : [];
      for (const row of rows) found.set(row.id, toDevice(row));
      return found;
    }
    for (const part of chunks(ids)) {
      const { rows } = await db.executeQuery(
        compiled(`devices-by-id:${part.length}`, part, () =>
          db.selectFrom('devices').selectAll().where('id', 'in', part).compile(),
        ),
      );
      for (const row of rows) found.set(row.id, toDevice(row));
    }
    return found;
  }

  /**
   * One multi-row upsert. With `keepIdentity` the rows' product and version are believed to be the stored ones
   * (`mergeKeepingIdentity`); when fewer rows than given were written, the belief was wrong for some (another
   * writer moved them in between), and the chunk is written again with the full merge, which is idempotent.
   */
  async function upsertDevices(trx: Kysely<Database>, rows: Database['devices'][], keepIdentity: boolean) {
    const shape = keepIdentity ? 'devices-upsert-keeping-identity' : 'devices-upsert';
    const { numAffectedRows } = await trx.executeQuery(
      compiled(`${shape}:${rows.length}`, rowParameters(rows), () =>
        trx
          .insertInto('devices')
          .values(rows)
          .onConflict((oc) =>
            keepIdentity
              ? oc.column('id').doUpdateSet(keepIdentityMerge).where(identityUnchanged)
              : oc.column('id').doUpdateSet(upsertMerge),
          )
          .compile(),
      ),
    );
    if (keepIdentity && Number(numAffectedRows ?? 0) < rows.length) await upsertDevices(trx, rows, false);
  }

  /**
   * Which of these devices hold more than `above` events. One grouped count per chunk over the
   * (device_id, id) index; the server keeps no per-device count, so the bound holds for any fleet size.
   */
  async function historyOver(ids: string[], above: number): Promise<string[]> {
    const over: string[] = [];
    if (ids.length === 0) return over;
    const query = (where: (eb: ExpressionBuilder<Database, 'device_events'>) => Expression<SqlBool>) =>
      db
        .selectFrom('device_events')
        .select('device_id')
        .where(where)
        .groupBy('device_id')
        .having((eb) => eb.fn.countAll(), '>', above);
    if (dialect === 'postgres') {
      const rows = await query(() => sql<boolean>`device_id = any(${ids}::text[])`).execute();
      for (const row of rows) over.push(row.device_id);
      return over;
    }
    for (const part of chunks(ids)) {
      const { rows } = await db.executeQuery(
        compiled(`history-over:${part.length}`, [...part, above], () =>
          query((eb) => eb('device_id', 'in', part)).compile(),
        ),
      );
      for (const row of rows) over.push(row.device_id);
    }
    return over;
  }

  async function writeHere(batch: CheckInBatch): Promise<DeviceMove[]> {
    const known = await getMany([...new Set(batch.checkIns.map((c) => c.deviceId))]);
    // The records as read: the fold replaces `known`'s entries with merged copies and leaves these as they were.
    const read = new Map(known);
    const { moves, ...write } = foldCheckIns(known, batch);
    const sameIdentity = new Set<string>();
    for (const device of write.devices) {
      const stored = read.get(device.id);
      if (stored?.product === device.product && stored.version === device.version)
        sameIdentity.add(device.id);
    }
    await repository.saveBatch(write, sameIdentity);
    // Only a device that got history rows in this write can have crossed the bound.
    const grown = [...new Set(write.events.map((e) => e.deviceId))];
    await repository.pruneHistory(await historyOver(grown, batch.trimAbove), batch.historyLimit);
    return moves;
  }

  const repository: SqlDeviceRepository = {
    getMany,

    async writeCheckIns(batch) {
      return writer ? writer.writeCheckIns(batch, writeHere) : writeHere(batch);
    },

    async saveBatch(batch, sameIdentity = NONE) {
      await inTransaction(db, async (trx) => {
        const kept: Database['devices'][] = [];
        const other: Database['devices'][] = [];
        for (const device of batch.devices) (sameIdentity.has(device.id) ? kept : other).push(toRow(device));
        for (const part of chunks(other, devicesPerInsert)) await upsertDevices(trx, part, false);
        for (const part of chunks(kept, devicesPerInsert)) await upsertDevices(trx, part, true);
        for (const part of chunks(batch.events, eventsPerInsert)) {
          await trx
            .insertInto('device_events')
            .values(
              part.map((e) => ({
                device_id: e.deviceId,
                at: e.at,
                kind: e.kind,
                version: e.version,
                detail: e.detail,
              })),
            )
            .execute();
        }
        for (const [hour, count] of batch.checkInsByHour) {
          await trx
            .insertInto('check_in_counts')
            .values({ hour, count })
            .onConflict((oc) =>
              oc.column('hour').doUpdateSet({ count: sql`check_in_counts.count + ${count}` }),
            )
            .execute();
        }
      });
    },

    async get(id) {
      const row = await db.selectFrom('devices').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toDevice(row);
    },

    async list(q) {
      let base = db.selectFrom('devices');
      if (q.product) base = base.where('product', '=', q.product);
      if (q.version) base = base.where('version', '=', q.version);
      if (q.seenAfter) base = base.where('last_seen', '>=', q.seenAfter);
      if (q.seenBefore) base = base.where('last_seen', '<', q.seenBefore);
      if (q.search) {
        const like = `%${q.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
        base = base.where((eb) =>
          eb.or([
            eb('id', 'like', sql<string>`${like} escape '\\'`),
            eb('address', 'like', sql<string>`${like} escape '\\'`),
            eb('version', 'like', sql<string>`${like} escape '\\'`),
          ]),
        );
      }
      const column = SORT_COLUMNS[q.sort ?? 'lastSeen'];
      const direction = q.order ?? (q.sort && q.sort !== 'lastSeen' ? 'asc' : 'desc');
      const [rows, total] = await Promise.all([
        base.selectAll().orderBy(column, direction).orderBy('id').limit(q.limit).offset(q.offset).execute(),
        base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
      ]);
      return { items: rows.map(toDevice), total: Number(total.n) };
    },

    async history(id, limit) {
      const rows = await db
        .selectFrom('device_events')
        .selectAll()
        .where('device_id', '=', id)
        .orderBy('id', 'desc')
        .limit(limit)
        .execute();
      return rows.map((r): DeviceEvent => ({
        deviceId: r.device_id,
        at: r.at,
        kind: r.kind as DeviceEventKind,
        version: r.version,
        detail: r.detail,
      }));
    },

    async setPin(id, version) {
      const result = await db
        .updateTable('devices')
        .set({ pinned_version: version })
        .where('id', '=', id)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    async listPins() {
      const rows = await db
        .selectFrom('devices')
        .select(['id', 'product', 'pinned_version'])
        .where('pinned_version', 'is not', null)
        .execute();
      return rows.map((r) => ({ id: r.id, product: r.product, version: r.pinned_version as string }));
    },

    async delete(id) {
      return inTransaction(db, async (trx) => {
        await trx.deleteFrom('device_events').where('device_id', '=', id).execute();
        const result = await trx.deleteFrom('devices').where('id', '=', id).executeTakeFirst();
        return Number(result.numDeletedRows) > 0;
      });
    },

    async versionCounts() {
      const rows = await db
        .selectFrom('devices')
        .select(['product', 'version', (eb) => eb.fn.countAll<number>().as('count')])
        .groupBy(['product', 'version'])
        .execute();
      return rows.map((r) => ({ product: r.product, version: r.version, count: Number(r.count) }));
    },

    async stats(since) {
      const [total, groups, hours] = await Promise.all([
        db
          .selectFrom('devices')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow(),
        db
          .selectFrom('devices')
          .select(['product', 'version', (eb) => eb.fn.countAll<number>().as('n')])
          .groupBy(['product', 'version'])
          .orderBy('product')
          .orderBy('version')
          .execute(),
        db
          .selectFrom('check_in_counts')
          .selectAll()
          .where('hour', '>=', since.slice(0, 13))
          .orderBy('hour')
          .execute(),
      ]);
      return {
        total: Number(total.n),
        byProductVersion: groups.map((g) => ({ product: g.product, version: g.version, count: Number(g.n) })),
        checkInsPerHour: hours.map((h) => ({ hour: h.hour, count: Number(h.count) })),
      };
    },

    async pruneHistory(ids, keep) {
      if (ids.length === 0) return;
      // One statement per device, all in one transaction: everything older than its `keep`-th newest event
      // (the subquery finds none, so nothing goes, while a device has `keep` events or fewer).
      await inTransaction(db, async (trx) => {
        for (const id of ids) {
          await trx.executeQuery(
            compiled('prune-history', [id, id, 1, keep], () =>
              trx
                .deleteFrom('device_events')
                .where('device_id', '=', id)
                .where('id', '<=', (eb) =>
                  eb
                    .selectFrom('device_events')
                    .select('id')
                    .where('device_id', '=', id)
                    .orderBy('id', 'desc')
                    .limit(1)
                    .offset(keep),
                )
                .compile(),
            ),
          );
        }
      });
    },
  };
  return repository;
}
