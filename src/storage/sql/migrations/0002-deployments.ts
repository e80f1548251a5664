import type { Kysely } from 'kysely';
import type { SqlDialect } from '../connection.js';

// Deployments (issue 10): tags, groups, deployments, per-device state, maintained counters, events.
// Never edit a migration once merged: add a new one (docs/adr/0003-storage.md).
export async function up(db: Kysely<unknown>, dialect: SqlDialect): Promise<void> {
  const serial = dialect === 'postgres' ? 'bigserial' : 'integer';

  await db.schema
    .createTable('device_tags')
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('tag', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('device_tags_pk', ['device_id', 'tag'])
    .execute();

  await db.schema
    .createTable('device_groups')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('filter', 'text')
    .addColumn('members', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('deployments')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('product', 'text', (c) => c.notNull())
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('current_wave', 'integer', (c) => c.notNull())
    .addColumn('spec', 'text', (c) => c.notNull())
    .addColumn('wave_opened_at', 'text')
    .addColumn('soak_until', 'text')
    .addColumn('failure_base', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('halt_reason', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('deployments_state').on('deployments').columns(['state']).execute();

  await db.schema
    .createTable('deployment_devices')
    .addColumn('deployment_id', 'text', (c) => c.notNull())
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('wave', 'integer', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('protocol', 'text')
    .addColumn('previous_version', 'text')
    .addColumn('offered_at', 'text')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addPrimaryKeyConstraint('deployment_devices_pk', ['deployment_id', 'device_id'])
    .execute();
  await db.schema
    .createIndex('deployment_devices_state')
    .on('deployment_devices')
    .columns(['deployment_id', 'state', 'wave'])
    .execute();

  // Counts per wave and state, changed in the same transaction as each device's state: a page for a
  // 1,000,000-device deployment reads a few rows, never scans.
  await db.schema
    .createTable('deployment_counts')
    .addColumn('deployment_id', 'text', (c) => c.notNull())
    .addColumn('wave', 'integer', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('count', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('deployment_counts_pk', ['deployment_id', 'wave', 'state'])
    .execute();

  await db.schema
    .createTable('deployment_events')
    .addColumn('id', serial, (c) => c.primaryKey())
    .addColumn('deployment_id', 'text', (c) => c.notNull())
    .addColumn('device_id', 'text')
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('detail', 'text')
    .execute();
  await db.schema
    .createIndex('deployment_events_deployment')
    .on('deployment_events')
    .columns(['deployment_id', 'id'])
    .execute();
}
