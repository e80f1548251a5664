import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type {
  DeploymentRepository,
  DeploymentRow,
  DeviceRow,
  StoredSpec,
} from '../../core/deployments/ports.js';
import { DEVICE_STATES, type DeploymentState, type DeviceState } from '../../core/deployments/types.js';
import type { Database } from './schema.js';
import { inTransaction } from './in-transaction.js';

const toDeployment = (r: Selectable<Database['deployments']>): DeploymentRow => ({
  id: r.id,
  product: r.product,
  version: r.version,
  state: r.state as DeploymentState,
  currentWave: Number(r.current_wave),
  spec: JSON.parse(r.spec) as StoredSpec,
  waveOpenedAt: r.wave_opened_at,
  soakUntil: r.soak_until,
  failureBase: Number(r.failure_base),
  haltReason: r.halt_reason,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const toDevice = (r: Selectable<Database['deployment_devices']>): DeviceRow => ({
  deploymentId: r.deployment_id,
  deviceId: r.device_id,
  wave: Number(r.wave),
  state: r.state as DeviceState,
  protocol: r.protocol,
  previousVersion: r.previous_version,
  offeredAt: r.offered_at,
  updatedAt: r.updated_at,
  reason: r.reason,
});

async function bump(
  trx: Transaction<Database>,
  deploymentId: string,
  wave: number,
  state: string,
  by: number,
): Promise<void> {
  await trx
    .insertInto('deployment_counts')
    .values({ deployment_id: deploymentId, wave, state, count: by })
    .onConflict((oc) =>
      oc
        .columns(['deployment_id', 'wave', 'state'])
        .doUpdateSet({ count: sql`deployment_counts.count + ${by}` }),
    )
    .execute();
}

export function createSqlDeploymentRepository(db: Kysely<Database>): DeploymentRepository {
  return {
    async create(row, members) {
      await inTransaction(db, async (trx) => {
        await trx
          .insertInto('deployments')
          .values({
            id: row.id,
            product: row.product,
            version: row.version,
            state: row.state,
            current_wave: row.currentWave,
            spec: JSON.stringify(row.spec),
            wave_opened_at: row.waveOpenedAt,
            soak_until: row.soakUntil,
            failure_base: row.failureBase,
            halt_reason: row.haltReason,
            created_at: row.createdAt,
            updated_at: row.updatedAt,
          })
          .execute();
        const perWave = new Map<number, number>();
        // 5 columns a row: well under SQLite's bound-parameter limit.
        for (let i = 0; i < members.length; i += 150) {
          const part = members.slice(i, i + 150);
          await trx
            .insertInto('deployment_devices')
            .values(
              part.map((m) => ({
                deployment_id: row.id,
                device_id: m.deviceId,
                wave: m.wave,
                state: 'pending',
                protocol: m.protocol,
                updated_at: row.createdAt,
              })),
            )
            .execute();
          for (const m of part) perWave.set(m.wave, (perWave.get(m.wave) ?? 0) + 1);
        }
        for (let w = 0; w < row.spec.waves.length; w++) {
          await bump(trx, row.id, w, 'pending', perWave.get(w) ?? 0);
        }
        await trx
          .insertInto('deployment_events')
          .values({
            deployment_id: row.id,
            device_id: null,
            at: row.createdAt,
            kind: 'created',
            detail: `${members.length} devices in ${row.spec.waves.length} waves`,
          })
          .execute();
      });
    },

    async get(id) {
      const r = await db.selectFrom('deployments').selectAll().where('id', '=', id).executeTakeFirst();
      return r && toDeployment(r);
    },

    async list(filter = {}) {
      let q = db.selectFrom('deployments').selectAll();
      if (filter.product) q = q.where('product', '=', filter.product);
      if (filter.states?.length) q = q.where('state', 'in', filter.states);
      const rows = await q.orderBy('created_at', 'desc').orderBy('id').execute();
      return rows.map(toDeployment);
    },

    async counts(id) {
      const rows = await db
        .selectFrom('deployment_counts')
        .select(['wave', 'state', 'count'])
        .where('deployment_id', '=', id)
        .execute();
      return rows.map((r) => ({
        wave: Number(r.wave),
        state: r.state as DeviceState,
        count: Number(r.count),
      }));
    },

    async advance(id, expected, patch, event) {
      return inTransaction(db, async (trx) => {
        const set: Partial<Database['deployments']> = { updated_at: patch.updatedAt };
        if (patch.state !== undefined) set.state = patch.state;
        if (patch.currentWave !== undefined) set.current_wave = patch.currentWave;
        if (patch.waveOpenedAt !== undefined) set.wave_opened_at = patch.waveOpenedAt;
        if (patch.soakUntil !== undefined) set.soak_until = patch.soakUntil;
        if (patch.failureBase !== undefined) set.failure_base = patch.failureBase;
        if (patch.haltReason !== undefined) set.halt_reason = patch.haltReason;
        const result = await trx
          .updateTable('deployments')
          .set(set)
          .where('id', '=', id)
          .where('state', '=', expected.state)
          .where('current_wave', '=', expected.currentWave)
          .executeTakeFirst();
        if (Number(result.numUpdatedRows) !== 1) return false;
        await trx
          .insertInto('deployment_events')
          .values({
            deployment_id: id,
            device_id: null,
            at: patch.updatedAt,
            kind: event.kind,
            detail: event.detail,
          })
          .execute();
        return true;
      });
    },

    async moveDevice(m, detail) {
      return inTransaction(db, async (trx) => {
        const set: Partial<Database['deployment_devices']> = { state: m.to, updated_at: m.at };
        if (m.protocol !== undefined) set.protocol = m.protocol;
        if (m.previousVersion !== undefined) set.previous_version = m.previousVersion;
        if (m.offeredAt !== undefined) set.offered_at = m.offeredAt;
        if (m.reason !== undefined) set.reason = m.reason;
        const updated = await trx
          .updateTable('deployment_devices')
          .set(set)
          .where('deployment_id', '=', m.deploymentId)
          .where('device_id', '=', m.deviceId)
          .where('state', '=', m.from)
          .executeTakeFirst();
        let wasMember = Number(updated.numUpdatedRows) === 1;
        if (!wasMember) {
          if (m.from !== 'pending') return undefined;
          // A device the target did not match at creation (a late joiner): it joins now, placed by its hash.
          const inserted = await trx
            .insertInto('deployment_devices')
            .values({
              deployment_id: m.deploymentId,
              device_id: m.deviceId,
              wave: m.wave,
              state: m.to,
              protocol: m.protocol ?? null,
              previous_version: m.previousVersion ?? null,
              offered_at: m.offeredAt ?? null,
              updated_at: m.at,
              reason: m.reason ?? null,
            })
            .onConflict((oc) => oc.columns(['deployment_id', 'device_id']).doNothing())
            .executeTakeFirst();
          if (Number(inserted.numInsertedOrUpdatedRows) !== 1) return undefined;
          wasMember = false;
        }
        if (wasMember) await bump(trx, m.deploymentId, m.wave, m.from, -1);
        await bump(trx, m.deploymentId, m.wave, m.to, 1);
        await trx
          .insertInto('deployment_events')
          .values({
            deployment_id: m.deploymentId,
            device_id: m.deviceId,
            at: m.at,
            kind: wasMember ? m.to : `joined, ${m.to}`,
            detail,
          })
          .execute();
        return wasMember ? 'moved' : 'joined';
      });
    },

    async device(id, deviceId) {
      const r = await db
        .selectFrom('deployment_devices')
        .selectAll()
        .where('deployment_id', '=', id)
        .where('device_id', '=', deviceId)
        .executeTakeFirst();
      return r && toDevice(r);
    },

    async touched(id) {
      const rows = await db
        .selectFrom('deployment_devices')
        .selectAll()
        .where('deployment_id', '=', id)
        // `in` (not `!=`) so the (deployment_id, state, wave) index serves it: pending members are the bulk.
        .where(
          'state',
          'in',
          DEVICE_STATES.filter((s) => s !== 'pending'),
        )
        .execute();
      return rows.map(toDevice);
    },

    async stale(id, states, before, wave, limit) {
      let q = db
        .selectFrom('deployment_devices')
        .selectAll()
        .where('deployment_id', '=', id)
        .where('state', 'in', states);
      if (before !== null) q = q.where('offered_at', '<', before);
      if (wave !== null) q = q.where('wave', '=', wave);
      // Ordered along the (deployment, state, wave) index: ordering by device id alone let SQLite walk the primary
      // key over every member instead (148 ms a tick at 1,000,000 members, against 0.07 ms; docs/benchmarks.md).
      const rows = await q.orderBy('state').orderBy('wave').orderBy('device_id').limit(limit).execute();
      return rows.map(toDevice);
    },

    async scanDevices(product, afterId, limit) {
      const rows = await db
        .selectFrom('devices')
        .select(['id', 'version', 'last_seen', 'protocol', 'attributes'])
        .where('product', '=', product)
        .where('id', '>', afterId)
        .orderBy('id')
        .limit(limit)
        .execute();
      return rows.map((r) => ({
        id: r.id,
        version: r.version,
        lastSeen: r.last_seen,
        protocol: r.protocol,
        attributes: JSON.parse(r.attributes) as Record<string, string>,
      }));
    },

    async events(id, { limit, afterId, deviceId }) {
      let q = db.selectFrom('deployment_events').selectAll().where('deployment_id', '=', id);
      if (afterId !== undefined) q = q.where('id', '>', afterId);
      if (deviceId !== undefined) q = q.where('device_id', '=', deviceId);
      const rows = await q.orderBy('id', 'asc').limit(limit).execute();
      return rows.map((r) => ({
        id: Number(r.id),
        deploymentId: r.deployment_id,
        deviceId: r.device_id,
        at: r.at,
        kind: r.kind,
        detail: r.detail,
      }));
    },
  };
}
