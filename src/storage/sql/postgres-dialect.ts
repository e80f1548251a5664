import {
  PostgresDialect,
  PostgresIntrospector,
  sql,
  type DatabaseIntrospector,
  type DatabaseMetadataOptions,
  type Kysely,
  type SchemaMetadata,
  type TableMetadata,
} from 'kysely';

/**
 * Kysely's PostgreSQL dialect with an introspector that looks only at the connection's own schema.
 *
 * Why: kysely's migrator asks `getTables()` whether its migration tables exist, and the stock introspector reads
 * every schema in the database and calls `has_schema_privilege(name, ...)` on each. When another instance (or test
 * run) sharing the database drops its schema between the catalog scan and that call, PostgreSQL raises 3F000
 * "schema ... does not exist" and our start-up migration fails for someone else's schema. Updraft keeps all its
 * tables in `current_schema()`, so that is all this introspector reports.
 */
export class SchemaScopedPostgresDialect extends PostgresDialect {
  override createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new CurrentSchemaIntrospector(db);
  }
}

interface ColumnRow {
  table: string;
  table_type: string;
  schema: string;
  column: string;
  type: string;
  type_schema: string;
  not_null: boolean;
  has_default: boolean;
  auto_incrementing: boolean;
}

class CurrentSchemaIntrospector implements DatabaseIntrospector {
  readonly #db: Kysely<unknown>;
  readonly #stock: PostgresIntrospector;

  constructor(db: Kysely<unknown>) {
    this.#db = db;
    this.#stock = new PostgresIntrospector(db);
  }

  getSchemas(): Promise<SchemaMetadata[]> {
    // Reads pg_namespace names only; no per-name privilege call, so a concurrent drop cannot fail it.
    return this.#stock.getSchemas();
  }

  async getTables(
    options: DatabaseMetadataOptions = { withInternalKyselyTables: false },
  ): Promise<TableMetadata[]> {
    // information_schema checks privileges by oid, which a concurrent drop elsewhere cannot break.
    const { rows } = await sql<ColumnRow>`
      select t.table_name as "table", t.table_type, t.table_schema as "schema",
             c.column_name as "column", c.udt_name as "type", c.udt_schema as type_schema,
             c.is_nullable = 'NO' as not_null, c.column_default is not null as has_default,
             coalesce(c.column_default like 'nextval(%', false) or c.is_identity = 'YES' as auto_incrementing
        from information_schema.tables t
        join information_schema.columns c
          on c.table_schema = t.table_schema and c.table_name = t.table_name
       where t.table_schema = current_schema()
       order by t.table_name, c.ordinal_position`.execute(this.#db);
    const tables = new Map<string, TableMetadata & { columns: TableMetadata['columns'][number][] }>();
    for (const row of rows) {
      if (!options.withInternalKyselyTables && row.table.startsWith('kysely_migration')) continue;
      let table = tables.get(row.table);
      if (!table) {
        table = { name: row.table, schema: row.schema, isView: row.table_type === 'VIEW', columns: [] };
        tables.set(row.table, table);
      }
      table.columns.push({
        name: row.column,
        dataType: row.type,
        dataTypeSchema: row.type_schema,
        isNullable: !row.not_null,
        hasDefaultValue: row.has_default,
        isAutoIncrementing: row.auto_incrementing,
      });
    }
    return [...tables.values()];
  }

  async getMetadata(options?: DatabaseMetadataOptions): Promise<{ tables: TableMetadata[] }> {
    return { tables: await this.getTables(options) };
  }
}
