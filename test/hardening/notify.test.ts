import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { parse, serialize } from '../../src/transports/coap/codec.js';
import { Code, MessageType } from '../../src/transports/coap/message.js';
import { getStringOptions, Opt } from '../../src/transports/coap/options.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { formBody, seedForm, startSilentDevice, type ScriptedDevice } from '../riot-seed/helpers.js';

const ID = 'harden_suit_update';
const V1 = {
  'bin/suit_update-slot0.riot.suit.1700000000.bin': randomBytes(300),
  'bin/suit_update-slot1.riot.suit.1700000000.bin': randomBytes(300),
  'bin/suit_update-slot0.1700000000.riot.bin': randomBytes(4000),
  'bin/suit_update-slot1.1700000000.riot.bin': randomBytes(4000),
};

/** A device that answers the slot query after `delayMs`, and answers a trigger 4.00 with a secret payload. */
async function slowDevice(delayMs: number) {
  const socket = dgram.createSocket('udp4');
  const paths: string[] = [];
  socket.on('message', (data, rinfo) => {
    const parsed = parse(data);
    if (!parsed.ok) return;
    const m = parsed.message;
    const path = getStringOptions(m.options, Opt.URI_PATH).join('/');
    paths.push(path);
    const reply = (code: number, payload: string) =>
      socket.send(
        serialize({
          type: MessageType.ACK,
          code,
          messageId: m.messageId,
          token: m.token,
          options: [],
          payload: Buffer.from(payload),
        }),
        rinfo.port,
        rinfo.address,
      );
    if (path === 'suit/slot/inactive') setTimeout(() => reply(Code.CONTENT, '1'), delayMs);
    else reply(Code.BAD_REQUEST, 'SECRET-BANNER of another service');
  });
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  const port = (socket.address() as { port: number }).port;
  return {
    address: `127.0.0.1:${port}`,
    paths,
    close: () => new Promise<void>((r) => socket.close(() => r())),
  };
}

type Results = { results: { device: string; status: string; message?: string }[] };

describe('hardening: /notify is no SSRF tool (defect 10)', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({
      coapPort: 0,
      coapPublicUrl: 'coap://[2001:db8::1]/',
      notifyTimeoutMs: 300,
      notifyConcurrency: 2,
      notifyMaxDevices: 50,
    });
    const res = await server.api('/publish', { method: 'POST', body: seedForm(ID, V1) });
    assert.equal(res.status, 200, await res.text());
  });
  after(() => server.close());

  it('never sends /suit/trigger after reporting a device timed out', async () => {
    const device = await slowDevice(600);
    try {
      const res = await server.api('/notify', formBody({ publish_id: ID, urls: device.address }));
      const { results } = (await res.json()) as Results;
      assert.equal(results[0]?.status, 'timeout');
      await new Promise((r) => setTimeout(r, 1200));
      assert.deepEqual(device.paths, ['suit/slot/inactive'], 'no trigger after the deadline');
    } finally {
      await device.close();
    }
  });

  it('does not echo what a target answered', async () => {
    const device = await slowDevice(0);
    try {
      const res = await server.api('/notify', formBody({ publish_id: ID, urls: device.address }));
      const body = await res.text();
      assert.doesNotMatch(body, /SECRET-BANNER/);
      assert.match(body, /4\.00/);
    } finally {
      await device.close();
    }
  });

  it('caps the targets of one request', async () => {
    const urls = Array.from({ length: 51 }, (_, i) => `127.0.0.1:${20000 + i}`).join(',');
    const res = await server.api('/notify', formBody({ publish_id: ID, urls }));
    assert.equal(res.status, 400);
  });

  it('stops contacting targets when the caller disconnects', async () => {
    const silent: ScriptedDevice[] = [];
    for (let i = 0; i < 20; i++) silent.push(await startSilentDevice());
    try {
      const controller = new AbortController();
      const pending = server
        .api('/notify', {
          ...formBody({ publish_id: ID, urls: silent.map((d) => d.address).join(',') }),
          signal: controller.signal,
        })
        .catch(() => undefined);
      await new Promise((r) => setTimeout(r, 250));
      controller.abort();
      await pending;
      await new Promise((r) => setTimeout(r, 200));
      const count = () => silent.reduce((n, d) => n + d.received.length, 0);
      const atDisconnect = count();
      // 20 devices, 2 at a time, 300 ms each: without cancelling, ~3 s more of datagrams would follow.
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(count(), atDisconnect, 'datagrams sent after the caller went away');
      assert.ok(atDisconnect < 20, `${atDisconnect} devices contacted before the disconnect`);
    } finally {
      await Promise.all(silent.map((d) => d.close()));
    }
  });

  it('refuses targets outside the allow-list', async () => {
    const strict = await startTestServer({
      coapPort: 0,
      coapPublicUrl: 'coap://[2001:db8::1]/',
      notifyAllow: ['10.0.0.0/8'],
      notifyPorts: [5683],
    });
    try {
      const published = await strict.api('/publish', { method: 'POST', body: seedForm(ID, V1) });
      assert.equal(published.status, 200);
      for (const urls of ['127.0.0.1:5683', '10.1.2.3:9999', 'node.local']) {
        const res = await strict.api('/notify', formBody({ publish_id: ID, urls }));
        assert.equal(res.status, 403, urls);
      }
    } finally {
      await strict.close();
    }
  });
});
