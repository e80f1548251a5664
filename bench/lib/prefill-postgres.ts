import pg from 'pg';

/**
 * Fills the devices table of a migrated PostgreSQL schema with `count` devices in one statement (bench only):
 * the rows of bench/lib/prefill.ts, MACs as bench/wrk/esp8266-304.lua spells them (02:00:xx:xx:xx:xx), generated
 * by the server itself. Returns the milliseconds it took.
 */
export async function prefillPostgresDevices(
  url: string,
  count: number,
  product: string,
  version: string,
): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const started = Date.now();
    const at = new Date(Date.now() - 86_400_000).toISOString();
    const attributes = JSON.stringify({ 'chip-id': '15602487', 'free-space': '4194304', mode: 'sketch' });
    const octet = (shift: number) => `lpad(to_hex((i >> ${shift}) & 255), 2, '0')`;
    await client.query(
      `insert into devices (id, product, version, first_seen, last_seen, address, protocol, user_agent, attributes)
       select '02:00:' || ${octet(24)} || ':' || ${octet(16)} || ':' || ${octet(8)} || ':' || ${octet(0)},
              $1, $2, $3, $3, '127.0.0.1', 'esp8266-httpupdate', 'ESP8266-http-Update', $4
       from generate_series(0, $5::int - 1) as i
       on conflict (id) do nothing`,
      [product, version, at, attributes, count],
    );
    await client.query('vacuum analyze devices');
    const { rows } = await client.query<{ n: number }>('select count(*)::int as n from devices');
    if ((rows[0]?.n ?? 0) < count) throw new Error(`prefill: ${rows[0]?.n} devices after inserting ${count}`);
    return Date.now() - started;
  } finally {
    await client.end();
  }
}
