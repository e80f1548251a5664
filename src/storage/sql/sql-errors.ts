/** SQLite (`SQLITE_CONSTRAINT_UNIQUE`/`_PRIMARYKEY`) and PostgreSQL (23505) spell a unique violation differently. */
export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
