import Database from 'better-sqlite3';

/** Device i's MAC, as bench/wrk/esp8266-304.lua spells it: 02:00:xx:xx:xx:xx (locally administered). */
function benchMac(i: number): string {
  const hex = (n: number) => n.toString(16).padStart(2, '0');
  return `02:00:${hex((i >>> 24) & 0xff)}:${hex((i >>> 16) & 0xff)}:${hex((i >>> 8) & 0xff)}:${hex(i & 0xff)}`;
}

/**
 * Fills the registry of a stopped bench server with `count` devices, directly in SQLite (bench only: one prepared
 * statement in one transaction; the API would take hours). Columns follow src/storage/sql/migrations/0001.
 */
export function prefillDevices(dbFile: string, count: number, product: string, version: string): number {
  const db = new Database(dbFile);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = OFF');
    const insert = db.prepare(
      `insert or ignore into devices (id, product, version, first_seen, last_seen, address, protocol, user_agent, attributes)
       values (?, ?, ?, ?, ?, '127.0.0.1', 'esp8266-httpupdate', 'ESP8266-http-Update', ?)`,
    );
    const at = new Date(Date.now() - 86_400_000).toISOString();
    const attributes = JSON.stringify({ 'chip-id': '15602487', 'free-space': '4194304', mode: 'sketch' });
    const started = Date.now();
    db.transaction(() => {
      for (let i = 0; i < count; i++) insert.run(benchMac(i), product, version, at, at, attributes);
    })();
    const row = db.prepare('select count(*) as n from devices').get() as { n: number };
    db.pragma('wal_checkpoint(TRUNCATE)');
    if (row.n < count) throw new Error(`prefill: ${row.n} devices after inserting ${count}`);
    return Date.now() - started;
  } finally {
    db.close();
  }
}
