// The check-in path while the database is away: the device registry's write-behind queue at its bound (200,000),
// where every check-in drops the oldest record, against the same registry with room in its queue, in one run.
// ESP8266-like check-ins over DEVICES devices (default 1,000), from the compiled server in dist/bench (`npm run
// bench` compiles it); no flush is run, as none succeeds while the database is away. Prints the CPU per check-in
// of each phase and their ratio (docs/benchmarks.md, "A full write-behind queue").
import { URL } from 'node:url';

const compiled = new URL('../../dist/bench/src/core/devices/', import.meta.url);
const { createDeviceRegistry } = await import(new URL('device-registry.js', compiled).href);

const deviceCount = Number(process.env.DEVICES ?? 1000);
const perPhase = Number(process.env.CHECK_INS ?? 100_000);
const bound = 200_000;
const away = () => Promise.reject(new Error('database away'));
const registry = createDeviceRegistry({
  devices: { writeCheckIns: away, listPins: async () => [], get: async () => undefined },
  maxPending: bound,
});
const attributes = {
  'chip-id': '15602487',
  'free-space': '4194304',
  'sketch-size': '400000',
  mode: 'sketch',
};
const mac = (i) =>
  `02:00:00:00:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
const ids = Array.from({ length: deviceCount }, (_, i) => mac(i));
let n = 0;
function checkIns(count) {
  for (let i = 0; i < count; i++, n++) {
    registry.checkIn({
      deviceId: ids[n % deviceCount],
      product: 'fw1m',
      version: '2.0.0',
      address: '127.0.0.1',
      protocol: 'esp8266-httpupdate',
      userAgent: 'ESP8266-http-Update',
      attributes: { ...attributes },
    });
  }
}
/** CPU of this process per check-in over `count` check-ins, µs. */
function measured(count) {
  const start = process.cpuUsage();
  checkIns(count);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / count;
}

checkIns(10_000); // warm-up: the check-in path compiled before either phase
const roomy = measured(Math.min(perPhase, bound - registry.pendingCount()));
checkIns(bound - registry.pendingCount());
const full = measured(perPhase);
if (registry.pendingCount() !== bound)
  throw new Error(`queue holds ${registry.pendingCount()}, not ${bound}`);
console.log(
  JSON.stringify({
    checkInsPerPhase: perPhase,
    roomyUsPerCheckIn: +roomy.toFixed(2),
    fullUsPerCheckIn: +full.toFixed(2),
    ratio: +(full / roomy).toFixed(2),
  }),
);
