import Database from 'better-sqlite3';
import { positionOf, waveOf } from '../../src/core/deployments/waves.js';

/**
 * Writes a deployment of `version` over every device of `product` straight into a stopped server's SQLite
 * (bench only, like prefill.ts; columns follow src/storage/sql/migrations/0002): waves 1% and 100%, the first
 * one passed and soaking for a day, its devices succeeded, everyone else pending. That is a 1,000,000-device
 * rollout mid-way, the case the check-in path must not slow down for.
 */
export function prefillDeployment(
  dbFile: string,
  id: string,
  product: string,
  version: string,
): {
  ms: number;
  members: number;
} {
  const db = new Database(dbFile);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = OFF');
    const started = Date.now();
    const now = new Date().toISOString();
    const waves = [
      { spec: '1%', upTo: 0.01 },
      { spec: '100%', upTo: 1 },
    ];
    const spec = {
      target: { groups: [], devices: [], filter: null },
      waves,
      soakSeconds: 86_400,
      successPercent: 95,
      maxFailures: '5%',
      minFinal: 100,
      timeoutSeconds: 7200,
      rollback: false,
      options: {},
    };
    const ids = db
      .prepare('select id from devices where product = ? order by id')
      .pluck()
      .all(product) as string[];
    const counts = new Map<string, number>();
    const member = db.prepare(
      `insert into deployment_devices (deployment_id, device_id, wave, state, protocol, previous_version, offered_at, updated_at)
       values (?, ?, ?, ?, 'esp8266-httpupdate', ?, ?, ?)`,
    );
    db.transaction(() => {
      db.prepare(
        `insert into deployments (id, product, version, state, current_wave, spec, wave_opened_at, soak_until,
           failure_base, halt_reason, created_at, updated_at)
         values (?, ?, ?, 'soaking', 0, ?, ?, ?, 0, null, ?, ?)`,
      ).run(
        id,
        product,
        version,
        JSON.stringify(spec),
        now,
        new Date(Date.now() + 86_400_000).toISOString(),
        now,
        now,
      );
      for (const deviceId of ids) {
        const wave = waveOf(waves, positionOf(id, deviceId)) ?? 1;
        const state = wave === 0 ? 'succeeded' : 'pending';
        member.run(id, deviceId, wave, state, wave === 0 ? '2.0.0' : null, wave === 0 ? now : null, now);
        counts.set(`${wave}|${state}`, (counts.get(`${wave}|${state}`) ?? 0) + 1);
      }
      const count = db.prepare(
        'insert into deployment_counts (deployment_id, wave, state, count) values (?, ?, ?, ?)',
      );
      for (const [key, n] of counts) {
        const [wave, state] = key.split('|');
        count.run(id, Number(wave), state, n);
      }
    })();
    db.pragma('wal_checkpoint(TRUNCATE)');
    return { ms: Date.now() - started, members: ids.length };
  } finally {
    db.close();
  }
}
