import type { Kysely } from 'kysely';
import type { SqlDialect } from '../connection.js';

/**
 * Versions of an image as devices report them: the digest an ESP32 sends in `x-ESP32-sketch-sha256` is the
 * SHA-256 ESP-IDF appends to the app image, not the file's (device-protocols.md §10). Computed at publish;
 * null for every other artifact and for releases published before this migration.
 */
export async function up(db: Kysely<unknown>, _dialect: SqlDialect): Promise<void> {
  await db.schema.alterTable('artifacts').addColumn('image_sha256', 'text').execute();
}
