import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeBlock, encodeBlock } from '../../src/transports/coap/block.js';
import { Code, MessageType, type CoapMessage, type CoapOption } from '../../src/transports/coap/message.js';
import { getOption, Opt } from '../../src/transports/coap/options.js';
import { ExpiringMap } from '../../src/core/cache.js';
import { createDeviceAdmission } from '../../src/transports/coap/adapters/device-admission.js';
import { encode, RawPeer, startServer } from '../coap/helpers.js';

let mid = 100;
function get(
  path: string[],
  extra: CoapOption[] = [],
  type: MessageType = MessageType.CON,
  id = ++mid,
): Buffer {
  return encode({
    type,
    code: Code.GET,
    messageId: id & 0xffff,
    token: Buffer.from([id & 0xff, (id >> 8) & 0xff]),
    options: [...path.map((p) => ({ number: Opt.URI_PATH, value: Buffer.from(p) })), ...extra].sort(
      (a, b) => a.number - b.number,
    ),
    payload: Buffer.alloc(0),
  });
}

async function drain(peer: RawPeer, ms: number): Promise<CoapMessage[]> {
  const got: CoapMessage[] = [];
  for (;;) {
    try {
      got.push(await peer.next(ms));
    } catch {
      return got;
    }
  }
}

describe('hardening: CoAP abuse (defects 13, 15)', () => {
  let calls = 0;
  let server: Awaited<ReturnType<typeof startServer>>;

  before(async () => {
    server = await startServer({ sourceRate: { perSecond: 100, burst: 200 }, observe: { maxPerSource: 4 } });
    for (let i = 0; i < 20; i++) {
      server.server.route(
        'GET',
        `/listed/resource-with-a-long-name-${i}`,
        () => ({ code: Code.CONTENT, body: 'x' }),
        {
          rt: 'firmware',
        },
      );
    }
    server.server.route(
      'GET',
      '/slow',
      async () => {
        calls++;
        await new Promise((r) => setTimeout(r, 300));
        return { code: Code.CONTENT, body: 'slow answer', etag: Buffer.from('e1') };
      },
      { obs: true },
    );
  });
  after(() => server.server.close());

  it('runs a slow GET handler once for its retransmissions, and answers once', async () => {
    const peer = await RawPeer.open(server.port);
    try {
      const request = get(['slow'], [], MessageType.CON, 4242);
      peer.send(request);
      await new Promise((r) => setTimeout(r, 50));
      peer.send(request);
      await new Promise((r) => setTimeout(r, 50));
      peer.send(request);
      const answers = await drain(peer, 600);
      assert.equal(calls, 1);
      assert.equal(answers.length, 1);
      assert.equal(answers[0]?.payload.toString(), 'slow answer');
    } finally {
      await peer.close();
    }
  });

  it('evaluates If-Match and If-None-Match (RFC 7252 §5.10.8)', async () => {
    const peer = await RawPeer.open(server.port);
    try {
      const ask = async (options: CoapOption[]) => {
        peer.send(get(['slow'], options));
        return (await peer.next(2000)).code;
      };
      assert.equal(await ask([{ number: Opt.IF_MATCH, value: Buffer.from('zz') }]), Code.PRECONDITION_FAILED);
      assert.equal(await ask([{ number: Opt.IF_MATCH, value: Buffer.from('e1') }]), Code.CONTENT);
      assert.equal(await ask([{ number: Opt.IF_MATCH, value: Buffer.alloc(0) }]), Code.CONTENT);
      assert.equal(
        await ask([{ number: Opt.IF_NONE_MATCH, value: Buffer.alloc(0) }]),
        Code.PRECONDITION_FAILED,
      );
    } finally {
      await peer.close();
    }
  });

  it('answers /.well-known/core without Block2 with a small first block (RFC 7959 §2.4)', async () => {
    const peer = await RawPeer.open(server.port);
    try {
      peer.send(get(['.well-known', 'core']));
      const first = await peer.next(2000);
      assert.equal(first.code, Code.CONTENT);
      assert.ok(first.payload.length <= 64, `${first.payload.length} bytes for a 21-byte request`);
      const block = decodeBlock(getOption(first.options, Opt.BLOCK2) ?? Buffer.alloc(0));
      assert.ok(block && block !== 'reserved-szx' && block.more, 'more blocks follow');
      // A client asking for larger blocks still gets them.
      peer.send(get(['.well-known', 'core'], [{ number: Opt.BLOCK2, value: encodeBlock(0, false, 6) }]));
      assert.ok((await peer.next(2000)).payload.length > 64);
    } finally {
      await peer.close();
    }
  });

  it('gives one source at most its share of Observe slots', async () => {
    const peer = await RawPeer.open(server.port);
    try {
      let observing = 0;
      for (let i = 0; i < 8; i++) {
        peer.send(get(['slow'], [{ number: Opt.OBSERVE, value: Buffer.alloc(0) }]));
        const answer = await peer.next(2000);
        if (getOption(answer.options, Opt.OBSERVE) !== undefined) observing++;
      }
      assert.equal(observing, 4);
    } finally {
      await peer.close();
    }
  });

  it('drops datagrams from a source over its rate (RFC 7252 §11.3)', async () => {
    await new Promise((r) => setTimeout(r, 2100)); // the earlier tests' datagrams refill
    const peer = await RawPeer.open(server.port);
    try {
      // 600 datagrams paced over 1.5 s (no kernel drops): 200 burst + 100/s ≈ 350 may be answered.
      const answers: CoapMessage[] = [];
      const collecting = (async () => {
        for (;;) {
          try {
            answers.push(await peer.next(500));
          } catch {
            return;
          }
        }
      })();
      for (let batch = 0; batch < 30; batch++) {
        for (let i = 0; i < 20; i++)
          peer.send(get(['listed', 'resource-with-a-long-name-1'], [], MessageType.NON));
        await new Promise((r) => setTimeout(r, 50));
      }
      await collecting;
      assert.ok(answers.length >= 200 && answers.length <= 420, `${answers.length} answers to 600 datagrams`);
    } finally {
      await peer.close();
    }
  });

  it('bounds remembered payloads by bytes and time, whatever the number of keys (defect 5)', () => {
    // lru-cache treats a start time of 0 as "no TTL": the clock starts at a real date.
    let now = Date.parse('2026-01-01T00:00:00Z');
    const map = new ExpiringMap<string, Buffer>(10_000, 60_000, () => new Date(now), {
      max: 1024 * 1024,
      sizeOf: (b) => b.length,
    });
    for (let i = 0; i < 10_000; i++) map.set(`peer-${i}`, Buffer.alloc(60_000));
    assert.ok(map.byteSize <= 1024 * 1024, `${map.byteSize} bytes kept`);
    now += 61_000;
    map.set('late', Buffer.alloc(10));
    assert.equal(map.size, 1, 'expired entries go on the next write');
  });

  it('records new devices from unauthenticated CoAP sources at a bounded rate', () => {
    const admit = createDeviceAdmission(5);
    const ids = Array.from({ length: 2000 }, (_, i) =>
      admit({ address: `10.0.${i >> 8}.${i & 0xff}`, port: 5683 }),
    );
    assert.equal(ids.filter((id) => id !== undefined).length, 5);
    // An admitted device keeps its record on every later request.
    assert.equal(admit({ address: '10.0.0.0', port: 40000 }), '10.0.0.0');
  });
});
