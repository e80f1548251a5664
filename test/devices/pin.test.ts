import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { publishRelease, startTestServer, type TestServer } from '../support/server.js';
import { espImage, json } from './helpers.js';

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

describe('operator pins reach devices', () => {
  let server: TestServer;
  const v1 = espImage(4000, 1);
  const v2 = espImage(5000, 2);
  const check = (version: string) =>
    fetch(`${server.url}/pinned`, {
      headers: {
        'User-Agent': 'ESP8266-http-Update',
        'x-ESP8266-STA-MAC': '18:FE:34:00:00:01',
        'x-ESP8266-AP-MAC': '1A:FE:34:00:00:01',
        'x-ESP8266-free-space': '1000000',
        'x-ESP8266-sketch-size': '300000',
        'x-ESP8266-sketch-md5': '00000000000000000000000000000000',
        'x-ESP8266-chip-size': '4194304',
        'x-ESP8266-sdk-version': '2.2.2-dev(38a443e)',
        'x-ESP8266-mode': 'sketch',
        'x-ESP8266-version': version,
      },
    });

  before(async () => {
    server = await startTestServer();
    await publishRelease(server, 'pinned', '1.0.0', { 'firmware.bin': v1 });
    await publishRelease(server, 'pinned', '2.0.0', { 'firmware.bin': v2 });
  });
  after(() => server.close());

  it('a device on the newest release gets 304, and the pinned lower release once pinned', async () => {
    assert.equal((await check('2.0.0')).status, 304);
    const pin = await server.api('/api/v1/devices/18:fe:34:00:00:01/pin', {
      method: 'PUT',
      headers: json,
      body: JSON.stringify({ version: '1.0.0' }),
    });
    assert.equal(pin.status, 200);
    const res = await check('2.0.0');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-md5'), md5(v1));
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), v1);
    assert.equal((await check('1.0.0')).status, 304, 'on the pinned version: nothing more');
    await server.api('/api/v1/devices/18:fe:34:00:00:01/pin', {
      method: 'PUT',
      headers: json,
      body: JSON.stringify({ version: null }),
    });
    assert.equal((await check('1.0.0')).headers.get('x-md5'), md5(v2), 'unpinned: the newest again');
  });
});
