import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { hashPassword } from '../../src/core/tokens/password.js';
import { publishRelease, startTestServer, type TestServer } from '../support/server.js';
import { espImage } from '../devices/helpers.js';

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** One ESP8266 update check from `localAddress` (any 127.x.y.z is this host on Linux); resolves the status. */
function check(port: number, auth: string, localAddress = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress }, () =>
      socket.write(
        [
          'GET /guarded HTTP/1.0',
          'Host: x',
          'User-Agent: ESP8266-http-Update',
          `Authorization: ${auth}`,
          'x-ESP8266-STA-MAC: DE:BA:7A:B1:E0:99',
          'x-ESP8266-AP-MAC: DE:BA:7A:B1:E0:99',
          'x-ESP8266-free-space: 4194304',
          'x-ESP8266-sketch-size: 400000',
          'x-ESP8266-sketch-md5: 00112233445566778899aabbccddeeff',
          'x-ESP8266-chip-size: 4194304',
          'x-ESP8266-sdk-version: 2.5.0',
          'x-ESP8266-mode: sketch',
          'x-ESP8266-version: 9.9.9',
          '',
          '',
        ].join('\r\n'),
      ),
    );
    let head = '';
    socket.on('data', (d: Buffer) => {
      head += d.toString('latin1');
      const m = /^HTTP\/1\.\d (\d{3})/.exec(head);
      if (m) {
        socket.destroy();
        resolve(Number(m[1]));
      }
    });
    socket.on('error', reject);
  });
}

describe('hardening: a wrong-password flood is rate-limited (defect 8)', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer();
    const passwordHash = await hashPassword('right'); // the real cost: N = 16384 (16 MiB)
    await publishRelease(
      server,
      'guarded',
      '1.0.0',
      { 'firmware.bin': espImage(2000) },
      {
        settings: { httpBasicAuth: { username: 'dev', passwordHash } },
      },
    );
  });
  after(() => server.close());

  it('answers 429 once a source has failed too often, keeps verified devices working, and stays ready', async () => {
    // A device verified before the flood (304: it already runs 9.9.9).
    assert.equal(await check(server.httpPort, basic('dev', 'right'), '127.0.0.5'), 304);
    const started = Date.now();
    const flood = await Promise.all(
      Array.from({ length: 60 }, (_, i) => check(server.httpPort, basic('dev', `wrong-${i}`))),
    );
    // The source's budget: 10 at once, then one more every 6 s (10 a minute) while the flood is checked.
    const budget = 10 + Math.floor((Date.now() - started) / 6000);
    const forbidden = flood.filter((s) => s === 403).length;
    const limited = flood.filter((s) => s === 429).length;
    assert.equal(forbidden + limited, flood.length, flood.join());
    assert.ok(
      forbidden <= budget,
      `${forbidden} wrong passwords were checked from one source (budget ${budget})`,
    );
    assert.ok(limited >= flood.length - budget, `${limited} attempts were refused without checking`);
    // One it already tried is answered from the failure memo (403, no scrypt, no budget).
    assert.equal(await check(server.httpPort, basic('dev', 'wrong-0')), 403);
    // Other sources and known credentials are not locked out by one flooding source.
    assert.equal(await check(server.httpPort, basic('dev', 'right'), '127.0.0.5'), 304);
    assert.equal(await check(server.httpPort, basic('dev', 'right'), '127.0.0.6'), 304);
    assert.equal((await fetch(`${server.url}/readyz`)).status, 200);
  });
});
