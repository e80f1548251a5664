import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Code, MessageType, type CoapOption } from '../../src/transports/coap/message.js';
import { ContentFormat, decodeUint, getOption, Opt } from '../../src/transports/coap/options.js';
import type { CoapServer } from '../../src/transports/coap/server.js';
import { coapClient, decode, encode, RawPeer, rawExchange, startServer, waitFor } from './helpers.js';

const path = (...segments: string[]): CoapOption[] =>
  segments.map((s) => ({ number: Opt.URI_PATH, value: Buffer.from(s) }));

function request(
  messageId: number,
  code: number,
  options: CoapOption[],
  payload = Buffer.alloc(0),
  type: (typeof MessageType)[keyof typeof MessageType] = MessageType.CON,
): Buffer {
  const sorted = [...options].sort((a, b) => a.number - b.number);
  return encode({
    type,
    code,
    messageId,
    token: Buffer.from([0xab, messageId & 0xff]),
    options: sorted,
    payload,
  });
}

describe('CoAP server', () => {
  let server: CoapServer;
  let port: number;
  let url: string;
  let version = 1;
  let triggerCalls = 0;
  const posted: string[] = [];

  before(async () => {
    ({ server, port } = await startServer());
    url = `coap://127.0.0.1:${port}`;
    server.route('GET', '/version', () => ({ code: Code.CONTENT, body: `v${version}` }), {
      rt: 'updraft.version',
      obs: true,
    });
    server.route('POST', '/suit/trigger', (req) => {
      triggerCalls++;
      posted.push(req.payload.toString('utf8'));
      return { code: Code.CREATED, body: `call ${triggerCalls}` };
    });
    server.route('GET', '/fw/:product/*', (req) => ({
      code: Code.CONTENT,
      body: `${req.params.product}|${req.params['*']}`,
    }));
    server.route('POST', '/updates', (req) =>
      req.payload.length < 7 ? { reset: true } : { code: Code.CONTENT, body: Buffer.from([1, 2, 3]) },
    );
    server.route('GET', '/boom', () => {
      throw new Error('handler failure');
    });
    server.route('GET', '/slow', async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      throw new Error('async handler failure');
    });
  });
  after(() => server.close());

  it('lists resources in /.well-known/core as link format (RFC 6690)', async () => {
    const { stdout } = await coapClient(['-m', 'get', '-B', '5', `${url}/.well-known/core`]);
    assert.match(stdout, /<\/version>;rt="updraft\.version";obs/);
    assert.match(stdout, /<\/suit\/trigger>/);
    assert.doesNotMatch(stdout, /well-known|:product/);
    const [reply] = await rawExchange(port, [request(1, Code.GET, path('.well-known', 'core'))]);
    assert.ok(reply);
    const m = decode(reply);
    assert.equal(
      decodeUint(getOption(m.options, Opt.CONTENT_FORMAT) ?? Buffer.alloc(0)),
      ContentFormat.LINK_FORMAT,
    );
  });

  it('filters /.well-known/core by a query (RFC 6690 §4.1)', async () => {
    const { stdout } = await coapClient(['-m', 'get', '-B', '5', `${url}/.well-known/core?rt=updraft*`]);
    assert.equal(stdout.trim(), '</version>;rt="updraft.version";obs');
  });

  it('passes a POST payload to the handler', async () => {
    const { stdout } = await coapClient([
      '-m',
      'post',
      '-e',
      'coap://[fd00::1]/fw/riot.suit.latest.bin',
      '-B',
      '5',
      `${url}/suit/trigger`,
    ]);
    assert.match(stdout, /call \d+/);
    assert.equal(posted.at(-1), 'coap://[fd00::1]/fw/riot.suit.latest.bin');
  });

  it('matches :param and * route segments', async () => {
    const { stdout } = await coapClient(['-m', 'get', '-B', '5', `${url}/fw/board-x/riot/slot0.bin`]);
    assert.equal(stdout.trim(), 'board-x|riot/slot0.bin');
  });

  it('sends Observe notifications to coap-client -s (RFC 7641)', async () => {
    version = 10;
    const run = coapClient(['-m', 'get', '-s', '3', '-B', '5', `${url}/version`]);
    await waitFor(() => server.observerCount === 1);
    for (const v of [11, 12]) {
      version = v;
      assert.equal(await server.notifyObservers('/version'), 1);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const { stdout } = await run;
    assert.match(stdout, /v10/);
    assert.match(stdout, /v11/);
    assert.match(stdout, /v12/);
  });

  it('deregisters an observer that answers a notification with RST, and on GET with Observe 1', async () => {
    const peer = await RawPeer.open(port);
    try {
      const observe = (value: number[]) => ({ number: Opt.OBSERVE, value: Buffer.from(value) });
      const before = server.observerCount;
      peer.send(request(20, Code.GET, [observe([]), ...path('version')]));
      const first = await peer.next();
      assert.equal(first.type, MessageType.ACK);
      const firstSeq = decodeUint(getOption(first.options, Opt.OBSERVE) ?? Buffer.alloc(0));
      assert.equal(server.observerCount, before + 1);

      version = 20;
      void server.notifyObservers('/version');
      const notification = await peer.next();
      assert.deepEqual(notification.token, Buffer.from([0xab, 20]));
      assert.equal(notification.payload.toString(), 'v20');
      assert.ok(decodeUint(getOption(notification.options, Opt.OBSERVE) ?? Buffer.alloc(0)) > firstSeq);
      // RFC 7641 §3.6: rejecting a notification with RST cancels the observation.
      peer.send(
        encode({
          type: MessageType.RST,
          code: 0,
          messageId: notification.messageId,
          token: Buffer.alloc(0),
          options: [],
          payload: Buffer.alloc(0),
        }),
      );
      await waitFor(() => server.observerCount === before);

      peer.send(request(21, Code.GET, [observe([]), ...path('version')]));
      await peer.next();
      assert.equal(server.observerCount, before + 1);
      peer.send(request(22, Code.GET, [observe([1]), ...path('version')]));
      // Observe 1 must come from the same token to deregister (RFC 7641 §3.6); request 22 has another one.
      await peer.next();
      assert.equal(server.observerCount, before + 1);
      peer.send(
        encode({
          type: MessageType.CON,
          code: Code.GET,
          messageId: 23,
          token: Buffer.from([0xab, 21]),
          options: [observe([1]), ...path('version')],
          payload: Buffer.alloc(0),
        }),
      );
      const last = await peer.next();
      assert.equal(last.code, Code.CONTENT);
      assert.equal(getOption(last.options, Opt.OBSERVE), undefined);
      assert.equal(server.observerCount, before);
    } finally {
      await peer.close();
    }
  });

  it('removes an observer whose CON notification is never acknowledged (RFC 7641 §4.5)', async () => {
    const { server: s, port: p } = await startServer({
      observe: { conEvery: 1 },
      transmission: { ackTimeoutMs: 20, maxRetransmit: 2 },
    });
    const peer = await RawPeer.open(p);
    try {
      s.route('GET', '/state', () => ({ code: Code.CONTENT, body: 'x' }), { obs: true });
      peer.send(request(1, Code.GET, [{ number: Opt.OBSERVE, value: Buffer.alloc(0) }, ...path('state')]));
      await peer.next();
      assert.equal(s.observerCount, 1);
      // Resolves once the CON notification has failed: the original and MAX_RETRANSMIT (2) copies sent, no ACK.
      await s.notifyObservers('/state');
      const copies = [await peer.next(), await peer.next(), await peer.next()];
      assert.ok(copies.every((m) => m.type === MessageType.CON && m.messageId === copies[0]?.messageId));
      assert.equal(s.observerCount, 0);
    } finally {
      await peer.close();
      await s.close();
    }
  });

  it('answers an unknown path with 4.04, a wrong method with 4.05, an unknown critical option with 4.02', async () => {
    const replies = await rawExchange(port, [
      request(30, Code.GET, path('nothing', 'here')),
      request(31, Code.DELETE, path('version')),
      request(32, Code.GET, [...path('version'), { number: 9, value: Buffer.from('x') }]),
      request(33, Code.GET, [...path('version'), { number: 10, value: Buffer.from('x') }]),
      request(34, 0x1f, path('version')),
    ]);
    assert.deepEqual(
      replies.map((r) => decode(r).code),
      [Code.NOT_FOUND, Code.METHOD_NOT_ALLOWED, Code.BAD_OPTION, Code.CONTENT, Code.METHOD_NOT_ALLOWED],
    );
    // coap-client prints error codes on stderr and exits 0 (baselines.md §3d).
    const { stderr } = await coapClient(['-m', 'get', '-B', '5', `${url}/nope`]);
    assert.match(stderr, /4\.04/);
    const put = await coapClient(['-m', 'put', '-B', '5', `${url}/version`]);
    assert.match(put.stderr, /4\.05/);
  });

  it('replays the cached response to a retransmitted CON without running the handler again (RFC 7252 §4.5)', async () => {
    const calls = triggerCalls;
    const datagram = request(40, Code.POST, path('suit', 'trigger'), Buffer.from('coap://x/y'));
    const replies = await rawExchange(port, [datagram, datagram, datagram]);
    assert.equal(replies.length, 3);
    assert.equal(triggerCalls, calls + 1);
    assert.ok(
      replies[0]?.equals(replies[1] ?? Buffer.alloc(0)) && replies[0].equals(replies[2] ?? Buffer.alloc(0)),
    );
    const m = decode(replies[0] ?? Buffer.alloc(0));
    assert.equal(m.type, MessageType.ACK);
    assert.equal(m.messageId, 40);
    assert.equal(m.code, Code.CREATED);
  });

  it('answers a NON request with a NON response carrying the token', async () => {
    const [reply] = await rawExchange(port, [
      request(41, Code.GET, path('version'), undefined, MessageType.NON),
    ]);
    assert.ok(reply);
    const m = decode(reply);
    assert.equal(m.type, MessageType.NON);
    assert.deepEqual(m.token, Buffer.from([0xab, 41]));
  });

  it('answers a handler asking for reset with RST (the STM32 /updates "no update")', async () => {
    const [reply] = await rawExchange(port, [request(42, Code.POST, path('updates'), Buffer.from([1]))]);
    assert.ok(reply);
    assert.deepEqual(reply, Buffer.from([0x70, 0x00, 0x00, 42]));
  });

  it('answers 5.00 when a handler throws, sync or async, and keeps serving', async () => {
    const replies = await rawExchange(
      port,
      [
        request(43, Code.GET, path('boom')),
        request(44, Code.GET, path('slow')),
        request(45, Code.GET, path('version')),
      ],
      400,
    );
    const byId = new Map(replies.map((r) => [decode(r).messageId, decode(r).code]));
    assert.equal(byId.get(43), Code.INTERNAL_SERVER_ERROR);
    assert.equal(byId.get(44), Code.INTERNAL_SERVER_ERROR);
    assert.equal(byId.get(45), Code.CONTENT);
  });

  it('answers a ping (Empty CON) with RST (RFC 7252 §4.3)', async () => {
    const [reply] = await rawExchange(port, [Buffer.from([0x40, 0x00, 0x12, 0x34])]);
    assert.deepEqual(reply, Buffer.from([0x70, 0x00, 0x12, 0x34]));
  });

  const malformed: Array<[string, Buffer, 'rst' | 'ignored']> = [
    ['a truncated header', Buffer.from([0x40, 0x01]), 'ignored'],
    ['version 2', Buffer.from([0x80, 0x01, 0x00, 0x50]), 'ignored'],
    ['token length 9', Buffer.concat([Buffer.from([0x49, 0x01, 0x00, 0x51]), Buffer.alloc(9)]), 'rst'],
    ['token length 15', Buffer.concat([Buffer.from([0x4f, 0x01, 0x00, 0x52]), Buffer.alloc(15)]), 'rst'],
    ['option delta 15', Buffer.from([0x40, 0x01, 0x00, 0x53, 0xf1, 0x00]), 'rst'],
    ['a payload marker with no payload', Buffer.from([0x40, 0x01, 0x00, 0x54, 0xff]), 'rst'],
    ['a truncated option', Buffer.from([0x40, 0x01, 0x00, 0x55, 0xbd]), 'rst'],
    ['a NON with a format error', Buffer.from([0x50, 0x01, 0x00, 0x56, 0xff]), 'ignored'],
    ['a CON response nobody asked for', Buffer.from([0x40, 0x45, 0x00, 0x57]), 'rst'],
    ['a reserved code class 7', Buffer.from([0x40, 0xe1, 0x00, 0x58]), 'rst'],
  ];
  for (const [name, datagram, expected] of malformed) {
    it(`survives ${name} (${expected === 'rst' ? 'RST' : 'silently ignored'}) and still serves`, async () => {
      const replies = await rawExchange(port, [datagram, request(60, Code.GET, path('version'))]);
      const types = replies.map((r) => decode(r));
      if (expected === 'rst') {
        assert.equal(types.length, 2);
        const rst = types.find((m) => m.type === MessageType.RST);
        assert.ok(rst, 'expected a RST');
        assert.equal(rst.messageId, datagram.readUInt16BE(2));
      } else {
        assert.equal(types.length, 1);
      }
      assert.ok(types.some((m) => m.type === MessageType.ACK && m.code === Code.CONTENT));
    });
  }

  it('answers a huge Block2 NUM and an over-long Block2 with 4.02', async () => {
    const replies = await rawExchange(port, [
      request(70, Code.GET, [
        ...path('version'),
        { number: Opt.BLOCK2, value: Buffer.from([0xff, 0xff, 0xf6]) },
      ]),
      request(71, Code.GET, [...path('version'), { number: Opt.BLOCK2, value: Buffer.alloc(4, 0xff) }]),
    ]);
    assert.deepEqual(
      replies.map((r) => decode(r).code),
      [Code.BAD_OPTION, Code.BAD_OPTION],
    );
  });
});
