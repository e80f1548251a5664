// The write-behind writer alone: ROUNDS rounds of 6,000 ESP8266 check-ins over 1,000 devices, in chunks of 250,
// through the SQL device repository on this thread (what the SQLite worker thread runs), from the compiled server
// in dist/bench (`npm run bench` or bench/writer/callgrind.sh compiles it). One warm-up round creates the devices.
// Prints the CPU per check-in; under callgrind, the difference between ROUNDS=0 and ROUNDS=n runs is the
// instructions of n rounds, which do not depend on what else the machine does (bench/writer/callgrind.sh).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { URL } from 'node:url';

const compiled = new URL('../../dist/bench/src/storage/sql/', import.meta.url);
const { openDatabase, migrate } = await import(new URL('connection.js', compiled).href);
const { createSqlDeviceRepository } = await import(new URL('device-repository.js', compiled).href);

const rounds = Number(process.env.ROUNDS ?? 10);
const dir = mkdtempSync(join(tmpdir(), 'updraft-writer-'));
const connection = await openDatabase(`sqlite:${join(dir, 'updraft.db')}`);
await migrate(connection);
const repo = createSqlDeviceRepository(connection.db, connection.dialect);

// The MACs and headers of bench/wrk/esp8266-304.lua, as the ESP adapter turns them into a check-in.
const hex = (n) => n.toString(16).padStart(2, '0');
const mac = (i) =>
  `02:00:${hex((i >>> 24) & 0xff)}:${hex((i >>> 16) & 0xff)}:${hex((i >>> 8) & 0xff)}:${hex(i & 0xff)}`;
let counter = 0;
function checkIn() {
  counter++;
  const id = mac((counter * 2654435761) % 1000);
  return {
    deviceId: id,
    product: 'bench',
    version: '2.0.0',
    address: '127.0.0.1',
    protocol: 'esp8266-httpupdate',
    userAgent: 'ESP8266-http-Update',
    attributes: {
      'chip-id': '15602487',
      'ap-mac': id,
      'free-space': '4194304',
      'sketch-size': '400000',
      'sketch-md5': '00112233445566778899aabbccddeeff',
      'chip-size': '4194304',
      'sdk-version': '2.5.0',
      mode: 'sketch',
      'last-decision': 'up-to-date',
    },
    at: new Date().toISOString(),
  };
}

async function round() {
  const before = process.cpuUsage();
  for (let chunk = 0; chunk < 24; chunk++) {
    const checkIns = Array.from({ length: 250 }, checkIn);
    await repo.writeCheckIns({ checkIns, events: [], historyLimit: 100, trimAbove: 125 });
  }
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 6000;
}

await round();
const perCheckIn = [];
for (let i = 0; i < rounds; i++) perCheckIn.push(await round());
await connection.close();
rmSync(dir, { recursive: true, force: true });
if (perCheckIn.length) {
  perCheckIn.sort((a, b) => a - b);
  const median = perCheckIn[perCheckIn.length >> 1];
  console.log(
    `${rounds} rounds: CPU per check-in ${median.toFixed(1)} µs (median), ${perCheckIn[0].toFixed(1)} µs (min)`,
  );
}
