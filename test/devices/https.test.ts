import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ADMIN_TOKEN,
  freePort,
  publishRelease,
  startTestServer,
  tempDir,
  type TestServer,
} from '../support/server.js';
import { httpRequest, rawRequest } from '../support/raw-http.js';
import { espImage, json } from './helpers.js';

describe('HTTPS (--tls-cert / --tls-key) with plain HTTP beside it', () => {
  let server: TestServer;
  let plain: TestServer;
  let certDir: string;
  let ca: Buffer;
  let plainPort: number;
  let token: string;
  const image = espImage(40_000, 9);

  before(async () => {
    certDir = await tempDir('updraft-tls-');
    const [cert, key] = [join(certDir, 'cert.pem'), join(certDir, 'key.pem')];
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    ca = readFileSync(cert);
    plainPort = await freePort();
    server = await startTestServer({ tlsCert: cert, tlsKey: key, plainHttpPort: plainPort });
    const url = `http://127.0.0.1:${plainPort}`;
    plain = {
      ...server,
      url,
      api: (path, init = {}) =>
        fetch(`${url}${path}`, {
          ...init,
          headers: {
            Authorization: `Bearer ${ADMIN_TOKEN}`,
            ...(init.headers as Record<string, string> | undefined),
          },
        }),
    };
    await publishRelease(plain, 'tls-at', '1.0.0', { 'ota.bin': image }, { deviceFamily: 'esp-at' });
    const created = await plain.api('/api/v1/tokens', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ kind: 'device', name: 'tls-module' }),
    });
    token = ((await created.json()) as { token: string }).token;
  });
  after(async () => {
    await server.close();
    await rm(certDir, { recursive: true, force: true });
  });

  it('serves ESP-AT mode 1 over TLS with Content-Length and body bytes in the first 1024-byte read', async () => {
    const res = await rawRequest(
      server.httpPort,
      httpRequest([
        'GET /v1/device/rom/?action=download_rom&version=1.0.0&filename=ota.bin HTTP/1.1',
        `Host: 127.0.0.1:${server.httpPort}`,
        'Connection: keep-alive',
        `Authorization: token ${token}`,
        'Accept-Encoding: gzip,deflate,sdch',
      ]),
      { tls: { ca }, firstReadMax: 1024 },
    );
    assert.equal(res.status, 200);
    const end = res.firstRead.indexOf('\r\n\r\n');
    assert.ok(res.firstRead.toString('latin1').includes('Content-Length: '));
    assert.ok(end > 0 && res.firstRead.length > end + 4);
    assert.deepEqual(res.body, image);
  });

  it('keeps plain HTTP on the other port, and the TLS port refuses plain HTTP', async () => {
    const res = await rawRequest(
      plainPort,
      httpRequest([
        'GET /v1/device/rom/?is_format_simple=true HTTP/1.0',
        `Host: 127.0.0.1:${plainPort}`,
        `Authorization: token ${token}`,
      ]),
    );
    assert.equal(res.body.toString(), '{"rom_version": "1.0.0", "status": 200}');
    await assert.rejects(fetch(`http://127.0.0.1:${server.httpPort}/healthz`));
  });
});
