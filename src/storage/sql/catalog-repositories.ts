import type { Kysely, Selectable } from 'kysely';
import { DomainError } from '../../core/errors.js';
import type { ProductRepository, ReleaseRepository } from '../../core/catalog/ports.js';
import type { Artifact, Product, Release, ReleaseState } from '../../core/catalog/types.js';
import type { Database } from './schema.js';
import { isUniqueViolation } from './sql-errors.js';
import { inTransaction } from './in-transaction.js';

const toProduct = (row: Selectable<Database['products']>): Product => ({
  name: row.name,
  description: row.description,
  deviceFamily: row.device_family,
  hardwareClass: row.hardware_class,
  settings: JSON.parse(row.settings) as Record<string, unknown>,
  createdAt: row.created_at,
});

export function createSqlProductRepository(db: Kysely<Database>): ProductRepository {
  return {
    async create(p) {
      try {
        await db
          .insertInto('products')
          .values({
            name: p.name,
            description: p.description,
            device_family: p.deviceFamily,
            hardware_class: p.hardwareClass,
            settings: JSON.stringify(p.settings),
            created_at: p.createdAt,
          })
          .execute();
      } catch (err) {
        if (isUniqueViolation(err))
          throw new DomainError('PRODUCT_EXISTS', `product "${p.name}" already exists`);
        throw err;
      }
    },
    async get(name) {
      const row = await db.selectFrom('products').selectAll().where('name', '=', name).executeTakeFirst();
      return row && toProduct(row);
    },
    async list() {
      return (await db.selectFrom('products').selectAll().orderBy('name').execute()).map(toProduct);
    },
    async update(name, patch) {
      const values: Partial<Database['products']> = {};
      if (patch.description !== undefined) values.description = patch.description;
      if (patch.deviceFamily !== undefined) values.device_family = patch.deviceFamily;
      if (patch.hardwareClass !== undefined) values.hardware_class = patch.hardwareClass;
      if (patch.settings !== undefined) values.settings = JSON.stringify(patch.settings);
      if (Object.keys(values).length)
        await db.updateTable('products').set(values).where('name', '=', name).execute();
      return this.get(name);
    },
    async delete(name) {
      const result = await db.deleteFrom('products').where('name', '=', name).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}

async function withArtifacts(
  db: Kysely<Database>,
  rows: Selectable<Database['releases']>[],
): Promise<Release[]> {
  if (rows.length === 0) return [];
  const artifacts = await db
    .selectFrom('artifacts')
    .selectAll()
    .where(
      'release_id',
      'in',
      rows.map((r) => r.id),
    )
    .orderBy('position')
    .execute();
  const byRelease = new Map<string, Artifact[]>();
  for (const a of artifacts) {
    const list = byRelease.get(a.release_id) ?? [];
    list.push({
      name: a.name,
      size: Number(a.size),
      sha256: a.sha256,
      md5: a.md5,
      ...(a.sha1 ? { sha1: a.sha1 } : {}),
      contentType: a.content_type,
      ...(a.image_sha256 ? { imageSha256: a.image_sha256 } : {}),
    });
    byRelease.set(a.release_id, list);
  }
  return rows.map((r) => ({
    id: r.id,
    product: r.product,
    version: r.version,
    label: r.label,
    notes: r.notes,
    state: r.state as ReleaseState,
    createdAt: r.created_at,
    publishedAt: r.published_at,
    revokedAt: r.revoked_at,
    artifacts: byRelease.get(r.id) ?? [],
  }));
}

export function createSqlReleaseRepository(db: Kysely<Database>): ReleaseRepository {
  return {
    async create(release) {
      try {
        await inTransaction(db, async (trx) => {
          await trx
            .insertInto('releases')
            .values({
              id: release.id,
              product: release.product,
              version: release.version,
              label: release.label,
              notes: release.notes,
              state: release.state,
              created_at: release.createdAt,
              published_at: release.publishedAt,
              revoked_at: release.revokedAt,
            })
            .execute();
          await trx
            .insertInto('artifacts')
            .values(
              release.artifacts.map((a, position) => ({
                release_id: release.id,
                name: a.name,
                position,
                size: a.size,
                sha256: a.sha256,
                md5: a.md5,
                sha1: a.sha1 ?? null,
                content_type: a.contentType,
                image_sha256: a.imageSha256 ?? null,
              })),
            )
            .execute();
        });
      } catch (err) {
        if (isUniqueViolation(err)) {
          throw new DomainError(
            'VERSION_EXISTS',
            `${release.product} already has a release ${release.version}`,
          );
        }
        throw err;
      }
    },
    async get(product, version) {
      const rows = await db
        .selectFrom('releases')
        .selectAll()
        .where('product', '=', product)
        .where('version', '=', version)
        .execute();
      return (await withArtifacts(db, rows))[0];
    },
    async getById(id) {
      const rows = await db.selectFrom('releases').selectAll().where('id', '=', id).execute();
      return (await withArtifacts(db, rows))[0];
    },
    async list(product, filter) {
      let q = db.selectFrom('releases').selectAll().where('product', '=', product);
      if (filter?.states?.length) q = q.where('state', 'in', filter.states);
      return withArtifacts(db, await q.orderBy('created_at', 'desc').execute());
    },
    async listAll(filter) {
      let q = db.selectFrom('releases').selectAll();
      if (filter?.states?.length) q = q.where('state', 'in', filter.states);
      return withArtifacts(
        db,
        await q
          .orderBy('created_at', 'desc')
          .limit(filter?.limit ?? 100)
          .execute(),
      );
    },
    async setState(id, state, at) {
      await db
        .updateTable('releases')
        .set(
          state === 'published'
            ? { state, published_at: at, revoked_at: null }
            : state === 'revoked'
              ? { state, revoked_at: at }
              : { state },
        )
        .where('id', '=', id)
        .execute();
    },
    async delete(id) {
      return inTransaction(db, async (trx) => {
        await trx.deleteFrom('artifacts').where('release_id', '=', id).execute();
        const result = await trx.deleteFrom('releases').where('id', '=', id).executeTakeFirst();
        return Number(result.numDeletedRows) > 0;
      });
    },
    async isBlobReferenced(sha256) {
      const row = await db
        .selectFrom('artifacts')
        .select('sha256')
        .where('sha256', '=', sha256)
        .limit(1)
        .executeTakeFirst();
      return row !== undefined;
    },
  };
}
