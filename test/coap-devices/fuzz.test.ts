import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, serialize, serializeEmpty } from '../../src/transports/coap/codec.js';
import { Code, MessageType, type CoapOption } from '../../src/transports/coap/message.js';
import { Opt } from '../../src/transports/coap/options.js';
import { encodeBlock } from '../../src/transports/coap/block.js';
import { ADMIN_TOKEN, releaseForm, spawnServer, tempDir, type SpawnedServer } from '../support/server.js';
import { coapClient, eventually } from './helpers.js';

/**
 * Fuzzing the CoAP codec and the real endpoint: random and mutated datagrams (RFC 7252 §3 framing taken apart
 * byte by byte) must never crash the server, leak memory, or disturb a well-behaved client afterwards. The
 * server runs as its own process so that its RSS is its own. Bounded: a fixed number of datagrams, paced by
 * CoAP pings so the server's socket buffer is never simply overrun.
 */
const DATAGRAMS = 100_000;
const CODEC_INPUTS = 200_000;
/**
 * Datagrams sent between two pings. A UDP socket's default receive buffer (212,992 bytes of rmem) holds about
 * 256 small datagrams, whatever their size; bursts beyond that would be dropped by the kernel, not by the server.
 */
const BATCH = 100;

/** A deterministic generator (xorshift32): a failure can be replayed from the seed printed with it. */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  const next = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
  return {
    int: (n: number) => next() % n,
    bytes: (n: number) => {
      const b = Buffer.alloc(n);
      for (let i = 0; i < n; i++) b[i] = next() & 0xff;
      return b;
    },
  };
}
type Rng = ReturnType<typeof rng>;

const uriPath = (path: string): CoapOption[] =>
  path
    .split('/')
    .filter(Boolean)
    .map((p) => ({ number: Opt.URI_PATH, value: Buffer.from(p) }));

function request(code: number, path: string, extra: CoapOption[] = [], payload = Buffer.alloc(0)): Buffer {
  return serialize({
    type: MessageType.CON,
    code,
    messageId: 0x1234,
    token: Buffer.from([1, 2, 3, 4]),
    options: [...uriPath(path), ...extra].sort((a, b) => a.number - b.number),
    payload,
  });
}

/** Valid requests for every kind of resource the server has: the starting points of the mutations. */
function seeds(): Buffer[] {
  return [
    request(Code.GET, '/.well-known/core'),
    request(Code.GET, '/fw/fuzz/latest/firmware.bin', [
      { number: Opt.BLOCK2, value: encodeBlock(3, false, 2) },
    ]),
    request(Code.GET, '/fw/fuzz/1.0.0/firmware.bin', [{ number: Opt.OBSERVE, value: Buffer.alloc(0) }]),
    request(Code.GET, '/fw/fuzz/latest/firmware.bin', [
      { number: Opt.IF_NONE_MATCH, value: Buffer.alloc(0) },
    ]),
    request(Code.POST, '/updates', [{ number: Opt.BLOCK1, value: encodeBlock(0, true, 2) }], randomBytes(64)),
    request(Code.GET, '/updates/0badc0de', [], Buffer.from('OFFSET=100')),
    request(Code.GET, '/suit_update/fuzz/riot.suit.latest.bin'),
    request(Code.PUT, '/fw', [{ number: Opt.URI_QUERY, value: Buffer.from('a=b') }], Buffer.from('x')),
    serializeEmpty(MessageType.CON, 0x4242),
  ];
}

/** One datagram: random bytes, or a seed with a few targeted mutations of the framing. */
function mutate(r: Rng, base: readonly Buffer[]): Buffer {
  const kind = r.int(10);
  if (kind === 0) return r.bytes(r.int(64));
  if (kind === 1) return r.bytes(r.int(1400));
  const d = Buffer.from(base[r.int(base.length)] as Buffer);
  let out = d;
  for (let n = 1 + r.int(4); n > 0; n--) {
    const at = out.length ? r.int(out.length) : 0;
    switch (r.int(9)) {
      case 0: // flip a bit
        if (out.length) out[at] = (out[at] as number) ^ (1 << r.int(8));
        break;
      case 1: // any byte
        if (out.length) out[at] = r.int(256);
        break;
      case 2: // truncate
        out = out.subarray(0, at);
        break;
      case 3: // append garbage
        out = Buffer.concat([out, r.bytes(r.int(40))]);
        break;
      case 4: // version / type / token length (TKL 9-15 is a format error, §3)
        if (out.length) out[0] = r.int(256);
        break;
      case 5: // an option nibble of 13, 14 or the reserved 15 (§3.1)
        if (out.length > 4) out[4 + r.int(out.length - 4)] = (13 + r.int(3)) << (r.int(2) * 4);
        break;
      case 6: // a payload marker with nothing after it (§3: a format error)
        out = Buffer.concat([out, Buffer.from([0xff])]);
        break;
      case 7: // a huge option length
        out = Buffer.concat([out.subarray(0, at), Buffer.from([0x0e, 0xff, 0xff]), out.subarray(at)]);
        break;
      default: // a code from every class, requests and responses
        if (out.length > 1) out[1] = r.int(256);
    }
  }
  return out;
}

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]) * 1024;
}

async function udpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe('CoAP fuzzing: codec and endpoint', () => {
  it(`parses ${CODEC_INPUTS.toLocaleString('en')} random and mutated inputs without throwing, and round-trips what it accepts`, () => {
    const seed = Date.now() & 0xffff;
    const r = rng(seed);
    const base = seeds();
    let accepted = 0;
    for (let i = 0; i < CODEC_INPUTS; i++) {
      const input = mutate(r, base);
      const result = parse(input);
      if (!result.ok) continue;
      accepted++;
      // What the codec accepts it can write again, and reading that gives the same message.
      const again = parse(serialize(result.message));
      assert.ok(
        again.ok,
        `seed ${seed}, input ${input.toString('hex')}: re-serialised message does not parse`,
      );
      assert.deepEqual(again.message, result.message, `seed ${seed}, input ${input.toString('hex')}`);
    }
    // Both paths were exercised: plenty of inputs are still well-formed after mutation, plenty are not.
    assert.ok(accepted > CODEC_INPUTS / 20 && accepted < CODEC_INPUTS * 0.95, `${accepted} accepted`);
  });

  describe('against the real endpoint on loopback', () => {
    let data: string;
    let dir: string;
    let server: SpawnedServer;
    let port: number;
    const image = randomBytes(256 * 1024);
    const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` };

    before(async () => {
      data = await tempDir();
      dir = await mkdtemp(join(tmpdir(), 'updraft-fuzz-'));
      port = await udpPort();
      server = await spawnServer(data, ['--coap-port', String(port)], { UPDRAFT_LOG_LEVEL: 'warn' });
      await fetch(`${server.url}/api/v1/products`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'fuzz' }),
      });
      const res = await fetch(`${server.url}/api/v1/products/fuzz/releases`, {
        method: 'POST',
        headers: auth,
        body: releaseForm('1.0.0', { 'firmware.bin': image }, { publish: 'true' }),
      });
      assert.equal(res.status, 201);
    });
    after(async () => {
      await server.stop('SIGKILL');
      await rm(data, { recursive: true, force: true });
      await rm(dir, { recursive: true, force: true });
    });

    /** A CoAP ping (empty CON, answered by RST, §4.3) from its own address: is the endpoint still there? */
    async function ping(timeoutMs: number): Promise<boolean> {
      const s = dgram.createSocket('udp4');
      try {
        await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
        const answered = new Promise<boolean>((resolve) => {
          s.on('message', (m) => resolve(m.length === 4 && m[0] === 0x70));
          setTimeout(() => resolve(false), timeoutMs);
        });
        s.send(serializeEmpty(MessageType.CON, 0x7777), port, '127.0.0.1');
        return await answered;
      } finally {
        s.close();
      }
    }

    it(`survives ${DATAGRAMS.toLocaleString('en')} random and mutated datagrams, then serves a block-wise download byte-exact, with bounded RSS`, async (t) => {
      const seed = (Date.now() >> 3) & 0xffff;
      const r = rng(seed);
      const base = seeds();
      // Warm up (first requests JIT-compile and fill caches), then take the baseline.
      await coapClient([
        '-m',
        'get',
        '-B',
        '20',
        '-o',
        join(dir, 'warm.bin'),
        `coap://127.0.0.1:${port}/fw/fuzz/latest/firmware.bin`,
      ]);
      // The warm-up's device records are written behind, up to a flush interval later, and the first write
      // starts the SQLite check-in writer's thread (its own V8 isolate, modules and connection: some 20 MiB of
      // RSS on Node 20 and 24 alike). It runs once per process whatever the traffic; started inside the window it
      // pushed Node 24 past the bound, whose main thread alone grows 30-40 MiB here (V8's young generation
      // becoming resident, not retained objects). After the warm-up's first flush the window holds only what the
      // datagrams cost.
      await eventually(async () => {
        const text = await (await fetch(`${server.url}/metrics`, { headers: auth })).text();
        const flushes = /^updraft_write_behind_flush_duration_seconds_count(?:\{[^}]*\})? (\d+)$/m.exec(text);
        return Number(flushes?.[1] ?? 0) > 0 ? true : undefined;
      }, 10_000);
      const rssBefore = rssOf(server.child.pid as number);

      // Several sources (distinct loopback addresses and ports), so per-source state is exercised too.
      const sockets = await Promise.all(
        ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'].map(async (address) => {
          const s = dgram.createSocket('udp4');
          s.on('message', () => undefined);
          await new Promise<void>((resolve) => s.bind(0, address, () => resolve()));
          return s;
        }),
      );
      let sent = 0;
      let unansweredPings = 0;
      try {
        while (sent < DATAGRAMS) {
          const batch = Array.from({ length: BATCH }, () => mutate(r, base));
          await Promise.all(
            batch.map(
              (d, i) =>
                new Promise<void>((resolve) =>
                  (sockets[i % sockets.length] as dgram.Socket).send(d, port, '127.0.0.1', () => resolve()),
                ),
            ),
          );
          sent += batch.length;
          // Pace by the server: wait until it answers a ping, i.e. has worked through what was queued before it.
          if (!(await ping(1000))) unansweredPings++;
          assert.equal(server.child.exitCode, null, `server died after ${sent} datagrams (seed ${seed})`);
        }
      } finally {
        for (const s of sockets) s.close();
      }
      t.diagnostic(`seed ${seed}: ${sent} datagrams, ${unansweredPings} pings unanswered during the run`);
      assert.ok(await ping(5000), 'the endpoint answers a ping after the fuzzing');

      // A well-behaved client gets the image block by block, every byte right (1,024 blocks of 256 bytes).
      const out = join(dir, 'after.bin');
      await coapClient([
        '-m',
        'get',
        '-b',
        '256',
        '-B',
        '60',
        '-o',
        out,
        `coap://127.0.0.1:${port}/fw/fuzz/latest/firmware.bin`,
      ]);
      const got = await readFile(out);
      assert.equal(got.length, image.length);
      assert.equal(
        createHash('sha256').update(got).digest('hex'),
        createHash('sha256').update(image).digest('hex'),
      );
      assert.equal((await fetch(`${server.url}/healthz`)).status, 200);

      // Memory: what 100,000 hostile datagrams leave behind is bounded (dedup cache, device records, Observe
      // slots are all capped), not proportional to the traffic.
      const rssAfter = rssOf(server.child.pid as number);
      t.diagnostic(`RSS ${(rssBefore / 2 ** 20).toFixed(0)} → ${(rssAfter / 2 ** 20).toFixed(0)} MiB`);
      assert.ok(
        rssAfter - rssBefore < 48 * 2 ** 20,
        `RSS grew by ${((rssAfter - rssBefore) / 2 ** 20).toFixed(0)} MiB`,
      );
    });
  });
});
