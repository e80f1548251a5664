import type { Kysely } from 'kysely';
import type { SqlDialect } from '../connection.js';

// Never edit a migration once merged: add a new one (docs/adr/0003-storage.md).
export async function up(db: Kysely<unknown>, dialect: SqlDialect): Promise<void> {
  await db.schema
    .createTable('products')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('device_family', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('hardware_class', 'text')
    .addColumn('settings', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('releases')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('product', 'text', (c) => c.notNull().references('products.name'))
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('label', 'text')
    .addColumn('notes', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('published_at', 'text')
    .addColumn('revoked_at', 'text')
    .addUniqueConstraint('releases_product_version', ['product', 'version'])
    .execute();

  await db.schema
    .createTable('artifacts')
    .addColumn('release_id', 'text', (c) => c.notNull().references('releases.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('md5', 'text', (c) => c.notNull())
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('artifacts_pk', ['release_id', 'name'])
    .execute();
  await db.schema.createIndex('artifacts_sha256').on('artifacts').column('sha256').execute();

  await db.schema
    .createTable('devices')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('product', 'text')
    .addColumn('version', 'text')
    .addColumn('first_seen', 'text', (c) => c.notNull())
    .addColumn('last_seen', 'text', (c) => c.notNull())
    .addColumn('last_update', 'text')
    .addColumn('address', 'text')
    .addColumn('protocol', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('last_offered', 'text')
    .addColumn('last_outcome', 'text')
    .addColumn('pinned_version', 'text')
    .addColumn('attributes', 'text', (c) => c.notNull().defaultTo('{}'))
    .execute();
  await db.schema
    .createIndex('devices_product_version')
    .on('devices')
    .columns(['product', 'version'])
    .execute();
  await db.schema.createIndex('devices_last_seen').on('devices').column('last_seen').execute();

  await db.schema
    .createTable('device_events')
    .addColumn('id', dialect === 'postgres' ? 'bigserial' : 'integer', (c) => c.primaryKey())
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('version', 'text')
    .addColumn('detail', 'text')
    .execute();
  await db.schema
    .createIndex('device_events_device')
    .on('device_events')
    .columns(['device_id', 'id'])
    .execute();

  await db.schema
    .createTable('check_in_counts')
    .addColumn('hour', 'text', (c) => c.primaryKey())
    .addColumn('count', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull().unique())
    .addColumn('product', 'text')
    .addColumn('device', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('settings')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();
}
