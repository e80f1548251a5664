import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { createCoapClient, type CoapClient } from '../../src/transports/coap/client.js';
import { parse, serialize, serializeEmpty } from '../../src/transports/coap/codec.js';
import { Code, MessageType, type CoapMessage } from '../../src/transports/coap/message.js';
import { getStringOptions, Opt } from '../../src/transports/coap/options.js';

type Behaviour = 'piggyback' | 'separate' | 'silent' | 'reset';

/** A stand-in for a RIOT node's nanocoap server (device-protocols.md §4.1), scripted per test. */
class ScriptedDevice {
  readonly socket = dgram.createSocket('udp4');
  readonly received: CoapMessage[] = [];
  /** performance.now() of each message in `received`. */
  readonly arrivals: number[] = [];
  readonly acks: CoapMessage[] = [];
  behaviour: Behaviour = 'piggyback';
  port = 0;

  async start(): Promise<void> {
    this.socket.on('message', (data, rinfo) => {
      const parsed = parse(data);
      if (!parsed.ok) return;
      const m = parsed.message;
      if (m.type === MessageType.ACK) {
        this.acks.push(m);
        return;
      }
      this.received.push(m);
      this.arrivals.push(performance.now());
      const reply = (bytes: Buffer): void => {
        this.socket.send(bytes, rinfo.port, rinfo.address);
      };
      const [code, payload] = this.answer(m);
      switch (this.behaviour) {
        case 'silent':
          return;
        case 'reset':
          reply(serializeEmpty(MessageType.RST, m.messageId));
          return;
        case 'piggyback':
          reply(
            serialize({
              type: MessageType.ACK,
              code,
              messageId: m.messageId,
              token: m.token,
              options: [],
              payload,
            }),
          );
          return;
        case 'separate':
          // RFC 7252 §5.2.2: empty ACK now, the response later in its own CON.
          reply(serializeEmpty(MessageType.ACK, m.messageId));
          setTimeout(() => {
            reply(
              serialize({
                type: MessageType.CON,
                code,
                messageId: 0x7777,
                token: m.token,
                options: [],
                payload,
              }),
            );
          }, 30);
      }
    });
    await new Promise<void>((resolve) => this.socket.bind(0, '127.0.0.1', () => resolve()));
    this.port = this.socket.address().port;
  }

  answer(m: CoapMessage): [number, Buffer] {
    const path = getStringOptions(m.options, Opt.URI_PATH).join('/');
    if (path === 'suit/slot/inactive' && m.code === Code.GET) return [Code.CONTENT, Buffer.from('1')];
    if (path === 'suit/trigger' && m.code === Code.POST) {
      // nanocoap answers 4.08 for an empty payload (device-protocols.md §4.1).
      return m.payload.length === 0
        ? [Code.REQUEST_ENTITY_INCOMPLETE, Buffer.alloc(0)]
        : [Code.CREATED, Buffer.alloc(0)];
    }
    return [Code.NOT_FOUND, Buffer.alloc(0)];
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

describe('CoAP client (server → device requests)', () => {
  const device = new ScriptedDevice();
  let client: CoapClient;
  let base: string;

  before(async () => {
    await device.start();
    base = `coap://127.0.0.1:${device.port}`;
    client = createCoapClient({
      // ACK_RANDOM_FACTOR 1: the first wait is exactly ACK_TIMEOUT, so the back-off test can tell doubling apart.
      transmission: { ackTimeoutMs: 20, ackRandomFactor: 1, maxRetransmit: 2 },
      responseTimeoutMs: 500,
    });
  });
  after(async () => {
    await client.close();
    await device.close();
  });

  it('runs the RIOT notify flow: GET slot/inactive, then CON POST the manifest URL to /suit/trigger', async () => {
    device.behaviour = 'piggyback';
    const slot = await client.request({ url: `${base}/suit/slot/inactive` });
    assert.equal(slot.status, 'response');
    assert.ok(slot.status === 'response' && slot.codeText === '2.05' && slot.payload.toString() === '1');
    const manifest = 'coap://[2001:db8::1]/fw/suit_update/samr21-xpro/riot.suit.latest.bin';
    const trigger = await client.request({ url: `${base}/suit/trigger`, method: 'POST', payload: manifest });
    assert.ok(trigger.status === 'response' && trigger.success && trigger.codeText === '2.01');
    const sent = device.received.at(-1);
    assert.equal(sent?.type, MessageType.CON);
    assert.equal(sent?.payload.toString(), manifest);
    assert.deepEqual(getStringOptions(sent?.options ?? [], Opt.URI_PATH), ['suit', 'trigger']);
  });

  it('reports an error code as such', async () => {
    device.behaviour = 'piggyback';
    const result = await client.request({ url: `${base}/suit/trigger`, method: 'POST' });
    assert.ok(result.status === 'response' && !result.success && result.codeText === '4.08');
  });

  it('accepts a separate response after an empty ACK and acknowledges it (RFC 7252 §5.2.2)', async () => {
    device.behaviour = 'separate';
    const result = await client.request({
      url: `${base}/suit/trigger`,
      method: 'POST',
      payload: 'coap://x/m',
    });
    assert.ok(result.status === 'response' && result.codeText === '2.01');
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.ok(device.acks.some((a) => a.messageId === 0x7777 && a.code === Code.EMPTY));
  });

  it('retransmits a CON with back-off and reports a timeout from a device that never answers', async () => {
    device.behaviour = 'silent';
    const before = device.received.length;
    const started = performance.now();
    const result = await client.request({ url: `${base}/suit/trigger`, method: 'POST', payload: 'u' });
    const elapsed = performance.now() - started;
    assert.equal(result.status, 'timeout');
    const attempts = device.received.slice(before);
    assert.equal(attempts.length, 3, 'one transmission and MAX_RETRANSMIT (2) retransmissions');
    assert.ok(attempts.every((m) => m.messageId === attempts[0]?.messageId));
    // Back-off (RFC 7252 §4.2): the waits are ACK_TIMEOUT (20 ms), then twice and four times that, and the timeout
    // is reported only after the last one. Each retransmission is timed from the request's start, not from the
    // arrival of the datagram before it: an arrival is taken at the receiver, in this process, and a busy event
    // loop can stamp one late (a CI run saw 15 ms between two arrivals that were sent 20 ms apart), which only
    // ever makes a time from the start longer. Lower bounds only, less 1 ms for a timer's rounding: without the
    // doubling the second retransmission would come at 40 ms.
    const [, t1, t2] = device.arrivals.slice(before) as [number, number, number];
    assert.ok(t1 - started >= 19, `first retransmission ${(t1 - started).toFixed(0)} ms after the start`);
    assert.ok(t2 - started >= 59, `second retransmission ${(t2 - started).toFixed(0)} ms after the start`);
    assert.ok(elapsed >= 139, `timeout reported after ${elapsed.toFixed(0)} ms`);
  });

  it('reports a RST', async () => {
    device.behaviour = 'reset';
    const result = await client.request({ url: `${base}/suit/trigger`, method: 'POST', payload: 'u' });
    assert.equal(result.status, 'reset');
  });

  it('fails fast on an ICMP port-unreachable instead of retransmitting until the timeout', async () => {
    // A port nobody listens on: loopback answers the first datagram with ICMP port-unreachable.
    const closed = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => closed.bind(0, '127.0.0.1', () => resolve()));
    const port = closed.address().port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const slow = createCoapClient({ transmission: { ackTimeoutMs: 2000, maxRetransmit: 4 } });
    try {
      const started = Date.now();
      const result = await slow.request({
        url: `coap://127.0.0.1:${port}/suit/trigger`,
        method: 'POST',
        payload: 'u',
      });
      const elapsed = Date.now() - started;
      assert.equal(result.status, 'unreachable');
      assert.match(result.status === 'unreachable' ? result.message : '', /ECONNREFUSED/);
      // Before the first retransmission (ACK_TIMEOUT 2 s): the ICMP error ended it, not the back-off.
      assert.ok(elapsed < 2000, `took ${elapsed} ms`);
      // The same client still reaches a listening device afterwards.
      device.behaviour = 'piggyback';
      const ok = await slow.request({ url: `${base}/suit/slot/inactive` });
      assert.equal(ok.status, 'response');
    } finally {
      await slow.close();
    }
  });

  it('rejects URLs that are not coap://', async () => {
    await assert.rejects(client.request({ url: 'http://127.0.0.1/x' }), /coap:\/\//);
  });
});
