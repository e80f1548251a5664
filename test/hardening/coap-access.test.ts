import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Code, MessageType, type CoapOption } from '../../src/transports/coap/message.js';
import { Opt } from '../../src/transports/coap/options.js';
import { hashPassword } from '../../src/core/tokens/password.js';
import { publishRelease, type TestServer } from '../support/server.js';
import { coapClient, encode, RawPeer, startCoapTestServer } from '../coap-devices/helpers.js';

const TOKEN = 'coap-path-token-0123456789abcdef';
const json = { 'content-type': 'application/json' };

/** PIDLEN PID TYPE VERSION, little-endian (STM32 /updates, seeds.md §4.2). */
function stm32Query(pid: string): Buffer {
  const head = Buffer.concat([Buffer.from([pid.length]), Buffer.from(pid, 'latin1'), Buffer.from([1])]);
  return Buffer.concat([head, Buffer.from([0, 0, 0, 0])]);
}

describe('hardening: CoAP applies each product’s access policy (defect 3)', () => {
  let server: TestServer;
  let url: string;
  let port: number;
  let work: string;
  const image = randomBytes(3000);

  const get = async (path: string): Promise<{ text: string; bytes: Buffer }> => {
    const out = join(work, `out-${Math.random().toString(36).slice(2)}`);
    const { stdout, stderr } = await coapClient(['-m', 'get', '-B', '5', '-o', out, `${url}${path}`]);
    const bytes = await readFile(out).catch(() => Buffer.alloc(0));
    return { text: stdout + stderr + bytes.toString('latin1', 0, 64), bytes };
  };

  before(async () => {
    ({ server, url, port } = await startCoapTestServer());
    work = await mkdtemp(join(tmpdir(), 'updraft-coap-access-'));
    const basic = { username: 'dev', passwordHash: await hashPassword('pw', { N: 1024, r: 8, p: 1 }) };
    await publishRelease(
      server,
      'locked',
      '1.0.0',
      { 'firmware.bin': image },
      { settings: { httpBasicAuth: basic } },
    );
    await publishRelease(
      server,
      'tokened',
      '1.0.0',
      { 'firmware.bin': image },
      {
        settings: { coapAccess: { token: TOKEN } },
      },
    );
    await publishRelease(
      server,
      'opened',
      '1.0.0',
      { 'firmware.bin': image },
      {
        settings: { httpBasicAuth: basic, coapAccess: 'open' },
      },
    );
    await publishRelease(server, 'public', '1.0.0', { 'firmware.bin': image });
    await publishRelease(
      server,
      'OTA-STM32-LOCKED',
      '1.0.0',
      { 'type-1.fmu': image },
      {
        settings: { coapAccess: 'off' },
      },
    );
  });
  after(async () => {
    await server.close();
    await rm(work, { recursive: true, force: true });
  });

  it('does not serve a product protected by HTTP Basic over CoAP unless the product opens it', async () => {
    for (const path of ['/fw/locked/latest/firmware.bin', '/fw/locked/1.0.0/firmware.bin']) {
      const res = await get(path);
      assert.match(res.text, /4\.04/, path);
      assert.ok(!res.bytes.equals(image), path);
    }
    assert.ok((await get('/fw/opened/latest/firmware.bin')).bytes.equals(image));
    assert.ok((await get('/fw/public/latest/firmware.bin')).bytes.equals(image));
  });

  it('serves a product with a CoAP path token only to requests that carry it', async () => {
    assert.match((await get('/fw/tokened/latest/firmware.bin')).text, /4\.01/);
    assert.match((await get('/fw/tokened/latest/firmware.bin?k=wrong')).text, /4\.01/);
    assert.ok((await get(`/fw/tokened/latest/firmware.bin?k=${TOKEN}`)).bytes.equals(image));
  });

  it('lists only what it serves without a secret in /.well-known/core', async () => {
    const { stdout } = await coapClient(['-m', 'get', '-B', '5', `${url}/.well-known/core`]);
    assert.match(stdout, /\/fw\/public\//);
    assert.match(stdout, /\/fw\/opened\//);
    assert.doesNotMatch(stdout, /locked|tokened|LOCKED/);
  });

  it('applies the policy to the RIOT seed publish-id files and to STM32 /updates', async () => {
    const form = new FormData();
    form.set('publish_id', 'seedapp');
    form.set('firmware.bin', new Blob([image]), 'firmware.bin');
    const published = await server.api('/publish', { method: 'POST', body: form });
    assert.equal(published.status, 200, await published.clone().text());
    assert.ok((await get('/seedapp/firmware.bin')).bytes.equals(image), 'served while open');
    const patched = await server.api('/api/v1/products/seedapp', {
      method: 'PATCH',
      headers: json,
      body: JSON.stringify({ settings: { coapAccess: 'off' } }),
    });
    assert.equal(patched.status, 200, await patched.clone().text());
    // At once: the CoAP side's product cache is dropped with the change (the `products` invalidation).
    assert.match((await get('/seedapp/firmware.bin')).text, /4\.04/);

    const peer = await RawPeer.open(port);
    try {
      const options: CoapOption[] = [{ number: Opt.URI_PATH, value: Buffer.from('updates') }];
      peer.send(
        encode({
          type: MessageType.CON,
          code: Code.GET,
          messageId: 77,
          token: Buffer.from([7]),
          options,
          payload: stm32Query('OTA-STM32-LOCKED'),
        }),
      );
      const answer = await peer.next(2000);
      assert.equal(answer.type, MessageType.RST, 'a product closed to CoAP is "no match" (RST)');
    } finally {
      await peer.close();
    }
  });
});
