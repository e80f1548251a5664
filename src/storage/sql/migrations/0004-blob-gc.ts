import type { Kysely } from 'kysely';
import type { SqlDialect } from '../connection.js';

// Never edit a migration once merged: add a new one (docs/adr/0003-storage.md).
// Garbage collection of blobs driven by the database (docs/storage.md): uploads hold the blobs they have stored
// until their release is committed, and a blob is deleted only after it has been an orphan for a grace period.
export async function up(db: Kysely<unknown>, _dialect: SqlDialect): Promise<void> {
  // One row per blob an upload in progress has stored; it lapses at expires_at unless the upload renews it.
  await db.schema
    .createTable('blob_holds')
    .addColumn('upload_id', 'text', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('blob_holds_pk', ['upload_id', 'sha256'])
    .execute();
  await db.schema.createIndex('blob_holds_sha256').on('blob_holds').column('sha256').execute();

  // Per blob: since when the collector has seen it unreferenced, and whether a collector is deleting it now.
  // The row is also the lock that orders a hold against a deletion of the same blob.
  await db.schema
    .createTable('blob_gc')
    .addColumn('sha256', 'text', (c) => c.primaryKey())
    .addColumn('orphan_since', 'text')
    .addColumn('deleting_since', 'text')
    .execute();
}
