// The write-behind writer alone: ROUNDS rounds of 6,000 ESP8266 check-ins over DEVICES devices (default 1,000; more
// are prefilled as the registry-1m case does), in chunks of 250, through the SQL device repository on a connection
// set up as the SQLite worker thread's, on this thread (what that thread runs), from the compiled server
// in dist/bench (`npm run bench` or bench/writer/callgrind.sh compiles it). One warm-up round creates the devices.
// Prints the CPU per check-in; under callgrind, the difference between ROUNDS=0 and ROUNDS=n runs is the
// instructions of n rounds, which do not depend on what else the machine does (bench/writer/callgrind.sh).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { URL } from 'node:url';

const compiled = new URL('../../dist/bench/src/storage/sql/', import.meta.url);
const { openDatabase, openSqlite, migrate } = await import(new URL('connection.js', compiled).href);
const { createSqlDeviceRepository } = await import(new URL('device-repository.js', compiled).href);
const { tuneWriterConnection } = await import(new URL('device-writer-worker.js', compiled).href);

const rounds = Number(process.env.ROUNDS ?? 10);
const deviceCount = Number(process.env.DEVICES ?? 1000);
const dir = mkdtempSync(join(tmpdir(), 'updraft-writer-'));
const file = join(dir, 'updraft.db');
const migrated = await openDatabase(`sqlite:${file}`);
await migrate(migrated);
await migrated.close();
if (deviceCount > 1000) {
  // As bench/lib/prefill.ts fills the registry-1m case's registry: the rows the check-ins below then update.
  const { tsImport } = await import('tsx/esm/api');
  const { prefillDevices } = await tsImport('../lib/prefill.ts', import.meta.url);
  prefillDevices(file, deviceCount, 'bench', '2.0.0');
}
// The worker thread's connection, as device-writer-worker.ts opens it.
const db = await openSqlite(file, { onOpen: tuneWriterConnection });
const repo = createSqlDeviceRepository(db, 'sqlite');

// The MACs and headers of bench/wrk/esp8266-304.lua, as the ESP adapter turns them into a check-in.
const hex = (n) => n.toString(16).padStart(2, '0');
const mac = (i) =>
  `02:00:${hex((i >>> 24) & 0xff)}:${hex((i >>> 16) & 0xff)}:${hex((i >>> 8) & 0xff)}:${hex(i & 0xff)}`;
let counter = 0;
function checkIn() {
  counter++;
  const id = mac((counter * 2654435761) % deviceCount);
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

// Bytes and calls through read/write syscalls so far (/proc/self/io): the WAL frames, the checkpoints, the
// statement journal and the page reads, which the kernel's CPU share follows and callgrind does not see.
function io() {
  const fields = Object.fromEntries(
    readFileSync('/proc/self/io', 'utf8')
      .trim()
      .split('\n')
      .map((line) => line.split(': '))
      .map(([key, value]) => [key, Number(value)]),
  );
  return { rchar: fields.rchar, wchar: fields.wchar, syscr: fields.syscr, syscw: fields.syscw };
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
const ioBefore = io();
for (let i = 0; i < rounds; i++) perCheckIn.push(await round());
const ioAfter = io();
await db.destroy();
rmSync(dir, { recursive: true, force: true });
if (perCheckIn.length) {
  const checkIns = rounds * 6000;
  const mean = perCheckIn.reduce((a, b) => a + b, 0) / rounds;
  perCheckIn.sort((a, b) => a - b);
  const median = perCheckIn[perCheckIn.length >> 1];
  const per = (key) => (ioAfter[key] - ioBefore[key]) / checkIns;
  console.log(
    `${rounds} rounds of 6,000 check-ins over ${deviceCount} devices: CPU per check-in ${mean.toFixed(1)} µs (mean), ` +
      `${median.toFixed(1)} µs (median), ${perCheckIn[0].toFixed(1)} µs (min); per check-in ` +
      `${(per('wchar') / 1024).toFixed(1)} KiB written in ${per('syscw').toFixed(2)} writes, ` +
      `${(per('rchar') / 1024).toFixed(1)} KiB read in ${per('syscr').toFixed(2)} reads`,
  );
}
