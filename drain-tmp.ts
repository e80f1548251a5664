import { copyFileSync, existsSync, rmSync } from 'node:fs';
import { migrate, openDatabase, openSqlite } from './src/storage/sql/connection.js';
import { createSqlDeviceRepository } from './src/storage/sql/device-repository.js';
import { prefillDevices } from './bench/lib/prefill.js';
import { sql } from 'kysely';
const base = '/tmp/wb/drain/base.db';
if (!existsSync(base)) {
  const c = await openDatabase(`sqlite:${base}`);
  await migrate(c);
  await c.close();
  prefillDevices(base, 1_000_000, 'firmware', '2.0.0');
}
const file = '/tmp/wb/drain/run.db';
for (const f of [file, file + '-wal', file + '-shm']) rmSync(f, { force: true });
copyFileSync(base, file);
const db = await openSqlite(file);
for (const p of (process.env.PRAGMAS ?? '').split(';').filter(Boolean)) await sql.raw(`pragma ${p}`).execute(db);
for (const q of (process.env.SQL ?? '').split(';').filter(Boolean)) await sql.raw(q).execute(db);
const repo = createSqlDeviceRepository(db, 'sqlite');
const hex = (n: number) => n.toString(16).padStart(2, '0');
const mac = (i: number) => `02:00:${hex((i >>> 24) & 0xff)}:${hex((i >>> 16) & 0xff)}:${hex((i >>> 8) & 0xff)}:${hex(i & 0xff)}`;
const n = Number(process.env.N ?? 40), size = Number(process.env.SIZE ?? 250);
const t0 = performance.now();
let k = 0; let tr = 0, tf = 0, tw = 0;
for (let b = 0; b < n; b++) {
  const checkIns = Array.from({ length: size }, () => ({ deviceId: mac(Math.floor(Math.random() * 1e6)), product: 'firmware', version: '2.0.0', protocol: 'esp8266-httpupdate', userAgent: 'ESP8266-http-Update', address: '127.0.0.1', attributes: { 'chip-id': '15602487' }, at: new Date().toISOString() }));
  const a = performance.now();
  const known = await repo.getMany([...new Set(checkIns.map((c) => c.deviceId))]);
  const b1 = performance.now();
  const { foldCheckIns } = await import('./src/core/devices/fold-check-ins.js');
  const { moves, ...w } = foldCheckIns(known, { checkIns, events: [] });
  const b2 = performance.now();
  if (process.env.NOEVENTS) w.events = [];
  await repo.saveBatch(w);
  const c = performance.now();
  tr += b1 - a; tf += b2 - b1; tw += c - b2;
  k += size;
}
const ms = performance.now() - t0; const cpu = process.cpuUsage(); console.log("read", tr.toFixed(0), "fold", tf.toFixed(0), "write", tw.toFixed(0)); console.log("cpu ms", (cpu.user + cpu.system) / 1000);
console.log(`${process.env.PRAGMAS ?? ''} size=${size}: ${k} check-ins in ${ms.toFixed(0)} ms = ${(k / ms * 1000).toFixed(0)}/s`);
await db.destroy();
