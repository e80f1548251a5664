import dgram from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Code, MessageType } from '../../src/transports/coap/message.js';
import { startTestServer, type TestServer } from '../support/server.js';
import {
  formBody,
  seedForm,
  startScriptedDevice,
  startSilentDevice,
  type ScriptedDevice,
} from './helpers.js';

const ID = 'samr21-xpro_suit_update';
const ROOT = `coap://[2001:db8::1]/${ID}`;
const TIMEOUT_MS = 500;

interface NotifyBody {
  results: { device: string; status: string; code?: string; message?: string }[];
}

describe('RIOT seed: POST /notify and /notifyv4 against scripted devices on loopback', () => {
  let server: TestServer;
  let slot1: ScriptedDevice;
  let slot0: ScriptedDevice;
  let refusing: ScriptedDevice;
  let silent: ScriptedDevice;
  const devices = () => [slot1, slot0, refusing, silent];

  const notify = async (path: string, fields: Record<string, string>) => {
    const started = performance.now();
    const res = await server.api(path, formBody(fields));
    return { res, ms: performance.now() - started };
  };
  const clear = () => devices().forEach((d) => (d.received.length = 0));

  before(async () => {
    server = await startTestServer({
      coapPort: 0,
      // Where devices reach the server; the scripted devices only record it.
      coapPublicUrl: 'coap://[2001:db8::1]/',
      notifyTimeoutMs: TIMEOUT_MS,
      notifyConcurrency: 2,
    });
    slot1 = await startScriptedDevice({ inactiveSlot: 1 }); // RIOT answers 2.01
    slot0 = await startScriptedDevice({ inactiveSlot: 0, triggerCode: Code.CHANGED }); // the seed's test node
    refusing = await startScriptedDevice({ inactiveSlot: 0, triggerCode: Code.REQUEST_ENTITY_TOO_LARGE });
    silent = await startSilentDevice();
    // A SUIT v1 build (the seed's per-slot manifests) and a v4 build, in two publishes.
    const v1 = {
      'bin/suit_update-slot0.riot.suit.1700000000.bin': randomBytes(300),
      'bin/suit_update-slot1.riot.suit.1700000000.bin': randomBytes(300),
      'bin/suit_update-slot0.1700000000.riot.bin': randomBytes(4000),
      'bin/suit_update-slot1.1700000000.riot.bin': randomBytes(4000),
    };
    const v4 = {
      'bin/suit_update-riot.suitv4_signed.1700000100.bin': randomBytes(400),
      'bin/suit_update-slot0.1700000100.riot.bin': randomBytes(4000),
    };
    for (const files of [v1, v4]) {
      const res = await server.api('/publish', { method: 'POST', body: seedForm(ID, files) });
      assert.equal(res.status, 200, await res.text());
    }
  });
  after(async () => {
    await server.close();
    await Promise.all(devices().map((d) => d.close()));
  });

  it('asks each device for its inactive slot, triggers the matching manifest, and reports every device', async () => {
    const urls = devices()
      .map((d) => d.address)
      .join(',');
    const { res, ms } = await notify('/notify', { publish_id: ID, urls });
    assert.equal(res.status, 200);
    const { results } = (await res.json()) as NotifyBody;
    assert.deepEqual(
      results.map((r) => [r.device, r.status, r.code]),
      [
        [slot1.address, 'ok', '2.01'],
        [slot0.address, 'ok', '2.04'],
        [refusing.address, 'error', '4.13'],
        [silent.address, 'timeout', undefined],
      ],
    );
    // The silent device was asked and reported as `timeout` (its deadline), not waited for: the others' answers
    // are in the same response.
    assert.ok(silent.received.length >= 1, 'the silent device was contacted');
    assert.ok(ms >= TIMEOUT_MS - 50, `answered after ${ms.toFixed(0)} ms, before the deadline`);

    assert.deepEqual(
      slot1.received.map((r) => [r.type, r.method, r.path, r.payload]),
      [
        [MessageType.CON, 'GET', 'suit/slot/inactive', ''],
        [MessageType.CON, 'POST', 'suit/trigger', `${ROOT}/suit_update-slot1.riot.suit.latest.bin`],
      ],
    );
    assert.equal(slot0.received[1]?.payload, `${ROOT}/suit_update-slot0.riot.suit.latest.bin`);
    assert.equal(silent.received.length >= 1, true, 'the silent device was asked');
  });

  it('/notifyv4 triggers <base>-riot.suitv4_signed.<version>.bin without a slot query', async () => {
    clear();
    for (const version of ['latest', '1700000100']) {
      const { res } = await notify('/notifyv4', { publish_id: ID, urls: slot0.address, version });
      assert.equal(res.status, 200);
      assert.deepEqual(((await res.json()) as NotifyBody).results, [
        { device: slot0.address, status: 'ok', code: '2.04' },
      ]);
    }
    assert.deepEqual(
      slot0.received.map((r) => [r.method, r.path, r.payload]),
      [
        ['POST', 'suit/trigger', `${ROOT}/suit_update-riot.suitv4_signed.latest.bin`],
        ['POST', 'suit/trigger', `${ROOT}/suit_update-riot.suitv4_signed.1700000100.bin`],
      ],
    );
  });

  it("a publish id holding RIOT's single riot.suit.latest.bin manifest triggers it directly", async () => {
    const res = await server.api('/publish', {
      method: 'POST',
      body: seedForm('native_suit', { 'bin/riot.suit.42.bin': randomBytes(200) }),
    });
    assert.equal(res.status, 200);
    clear();
    const { res: answer } = await notify('/notify', { publish_id: 'native_suit', urls: slot1.address });
    assert.equal(((await answer.json()) as NotifyBody).results[0]?.status, 'ok');
    assert.deepEqual(
      slot1.received.map((r) => [r.path, r.payload]),
      [['suit/trigger', 'coap://[2001:db8::1]/native_suit/riot.suit.latest.bin']],
    );
  });

  it('takes repeated urls fields and newline-separated lists, and notifies a device once', async () => {
    clear();
    const body = new URLSearchParams();
    body.set('publish_id', ID);
    body.append('urls', `${slot1.address}\n${slot0.address}`);
    body.append('urls', slot1.address);
    const res = await server.api('/notify', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: body.toString(),
    });
    const { results } = (await res.json()) as NotifyBody;
    assert.deepEqual(
      results.map((r) => r.device),
      [slot1.address, slot0.address],
    );
    assert.equal(slot1.received.filter((r) => r.path === 'suit/trigger').length, 1);
  });

  it('bounds concurrency: unreachable devices never block the others for longer than the deadline', async () => {
    const many = await Promise.all(Array.from({ length: 6 }, () => startSilentDevice()));
    try {
      const { res, ms } = await notify('/notify', {
        publish_id: ID,
        urls: many.map((d) => d.address).join(','),
      });
      const { results } = (await res.json()) as NotifyBody;
      assert.deepEqual(new Set(results.map((r) => r.status)), new Set(['timeout']));
      // 2 at a time, 500 ms each: device k+2 is first contacted only once device k's deadline has passed.
      const firstContact = many.map((d) => d.received[0]?.at ?? NaN).sort((a, b) => a - b);
      for (let k = 0; k + 2 < firstContact.length; k++) {
        const gap = (firstContact[k + 2] as number) - (firstContact[k] as number);
        assert.ok(gap >= TIMEOUT_MS - 50, `device ${k + 2} contacted ${gap.toFixed(0)} ms after device ${k}`);
      }
      // And no device waits for another's full RFC 7252 exchange (~45 s each in the seed): all six were contacted
      // before the answer, which came once the last pair's deadline had passed.
      assert.equal(firstContact.filter((at) => Number.isFinite(at)).length, many.length);
      assert.ok(ms >= 3 * TIMEOUT_MS - 50, `three rounds of two: answered after ${ms.toFixed(0)} ms`);
    } finally {
      await Promise.all(many.map((d) => d.close()));
    }
  });

  it('reports a device whose port answers ICMP port-unreachable at once, not after the deadline', async () => {
    const gone = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => gone.bind(0, '127.0.0.1', () => resolve()));
    const port = gone.address().port;
    await new Promise<void>((resolve) => gone.close(() => resolve()));
    const { res } = await notify('/notifyv4', {
      publish_id: ID,
      urls: `127.0.0.1:${port},${slot0.address}`,
      version: 'latest',
    });
    assert.equal(res.status, 200);
    const { results } = (await res.json()) as NotifyBody;
    assert.equal(results[0]?.status, 'error', 'an ICMP error, not the deadline (status timeout)');
    assert.match(results[0]?.message ?? '', /unreachable \(ECONNREFUSED/);
    assert.equal(results[1]?.status, 'ok');
  });

  it('fails fast on ICMPv6 port-unreachable too (RIOT devices are IPv6: [fd00::2])', async () => {
    const gone = dgram.createSocket('udp6');
    await new Promise<void>((resolve) => gone.bind(0, '::1', () => resolve()));
    const port = gone.address().port;
    await new Promise<void>((resolve) => gone.close(() => resolve()));
    const { res } = await notify('/notifyv4', { publish_id: ID, urls: `[::1]:${port}`, version: 'latest' });
    assert.equal(res.status, 200);
    const { results } = (await res.json()) as NotifyBody;
    assert.equal(results[0]?.status, 'error', `not the deadline: ${JSON.stringify(results[0])}`);
    assert.match(results[0]?.message ?? '', /unreachable \(ECONNREFUSED/);
  });

  it('refuses bad input with 400 (404 for an unknown publish id or version) before contacting anyone', async () => {
    clear();
    const cases: [string, string, Record<string, string>, number][] = [
      ['no publish_id', '/notify', { urls: slot0.address }, 400],
      ['traversal', '/notify', { publish_id: '../etc', urls: slot0.address }, 400],
      ['no urls', '/notify', { publish_id: ID }, 400],
      ['a device URL with a path', '/notify', { publish_id: ID, urls: `${slot0.address}/notify` }, 400],
      ['a device URL with a query', '/notify', { publish_id: ID, urls: `${slot0.address}?x=1` }, 400],
      ['unknown publish id', '/notify', { publish_id: 'nobody', urls: slot0.address }, 404],
      ['no version', '/notifyv4', { publish_id: ID, urls: slot0.address }, 400],
      ['unknown version', '/notifyv4', { publish_id: ID, urls: slot0.address, version: '9' }, 404],
      ['version with a dot', '/notifyv4', { publish_id: ID, urls: slot0.address, version: '../x' }, 404],
    ];
    for (const [what, path, fields, status] of cases) {
      const { res } = await notify(path, fields);
      assert.equal(res.status, status, `${what}: ${await res.text()}`);
    }
    assert.equal(slot0.received.length, 0);
  });

  it("accepts the RIOT makefile's multipart form (curl -F) and JSON", async () => {
    clear();
    const form = new FormData();
    form.set('publish_id', ID);
    form.set('urls', slot0.address);
    form.set('version', 'latest');
    const multipart = await server.api('/notifyv4', { method: 'POST', body: form });
    assert.equal(((await multipart.json()) as NotifyBody).results[0]?.status, 'ok');
    const json = await server.api('/notify', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ publish_id: ID, urls: [slot0.address] }),
    });
    assert.equal(((await json.json()) as NotifyBody).results[0]?.status, 'ok');
  });
});
