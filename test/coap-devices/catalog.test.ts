import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publishRelease, type TestServer } from '../support/server.js';
import { coapClient, eventually, startCoapTestServer } from './helpers.js';

const IMAGE = randomBytes(1024 * 1024);
const SMALL = randomBytes(256 * 1024);

describe('catalog resources over CoAP (/fw/<product>/<version|latest>/<artifact>)', () => {
  let server: TestServer;
  let url: string;
  let dir: string;

  before(async () => {
    ({ server, url } = await startCoapTestServer());
    dir = await mkdtemp(join(tmpdir(), 'updraft-coap-devices-'));
    await publishRelease(server, 'app', '1.0.0', { 'firmware.bin': IMAGE }, { deviceFamily: 'esp32' });
    await publishRelease(server, 'small', '1.0.0', { 'firmware.bin': SMALL });
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  const get = async (path: string, ...args: string[]): Promise<string> =>
    (await coapClient(['-m', 'get', '-B', '5', ...args, `${url}${path}`])).stdout;

  // -b 16 on 1 MiB is 65 536 round trips: 5.5 s alone on the 2-core CI machine, but 8-10 s and more while other
  // suites and benchmarks load it, so the 16-byte case uses a 256 KiB image (16 384 blocks) to stay near 2 s.
  for (const [size, product, image] of [
    [1024, 'app', IMAGE],
    [256, 'app', IMAGE],
    [64, 'app', IMAGE],
    [16, 'small', SMALL],
  ] as const) {
    it(`serves a ${image.length / 1024} KiB release image block-wise to coap-client -b ${size}, byte-identical`, async () => {
      const out = join(dir, `latest-${size}.bin`);
      const started = performance.now();
      await coapClient([
        '-m',
        'get',
        '-b',
        String(size),
        '-B',
        '60',
        '-o',
        out,
        `${url}/fw/${product}/latest/firmware.bin`,
      ]);
      const ms = performance.now() - started;
      const got = await readFile(out);
      assert.equal(got.length, image.length);
      assert.ok(got.equals(image), 'downloaded bytes differ');
      console.log(`# -b ${size}: ${image.length / size} blocks in ${ms.toFixed(0)} ms`);
    });
  }

  it('serves a release by version and by label, and records the download by peer address', async () => {
    await publishRelease(server, 'labelled', 'v2.1', { 'firmware.bin': Buffer.from('labelled image') });
    assert.equal((await get('/fw/labelled/v2.1/firmware.bin')).trim(), 'labelled image');
    assert.equal((await get('/fw/labelled/2.1.0/firmware.bin')).trim(), 'labelled image');
    await server.services.devices.flush();
    const history = await server.services.devices.history('127.0.0.1', 1000);
    const kinds = history.filter((e) => e.version === '2.1.0').map((e) => e.kind);
    assert.ok(kinds.includes('download-started') && kinds.includes('download-completed'), kinds.join());
  });

  it('answers 4.04 for unknown products, versions, artifacts and drafts', async () => {
    const draft = await server.api('/api/v1/products/app/releases', {
      method: 'POST',
      body: (() => {
        const form = new FormData();
        form.set('version', '9.0.0');
        form.set('firmware.bin', new Blob([Buffer.from('draft')]), 'firmware.bin');
        return form;
      })(),
    });
    assert.equal(draft.status, 201);
    for (const path of [
      '/fw/nope/latest/firmware.bin',
      '/fw/app/3.0.0/firmware.bin',
      '/fw/app/latest/other.bin',
      '/fw/app/9.0.0/firmware.bin',
    ]) {
      const { stdout, stderr } = await coapClient(['-m', 'get', '-B', '5', `${url}${path}`]);
      assert.match(stdout + stderr, /4\.04/, path);
    }
  });

  it('refuses names with path separators or ".." with 4.00, never touching a path', async () => {
    // libcoap percent-decodes each segment, so these reach the server as `../..`, `../../etc/passwd`, `../app`.
    for (const [path, code] of [
      ['/fw/x/..%2F../y', '4.00'],
      ['/fw/app/latest/..%2F..%2Fetc%2Fpasswd', '4.00'],
      ['/fw/..%2Fapp/latest/firmware.bin', '4.00'],
      ['/fw/app/%2E%2E/firmware.bin', '4.00'],
      // The client resolves a literal `..` itself (RFC 3986 §5.2.4): /fw/firmware.bin is no resource.
      ['/fw/app/../firmware.bin', '4.04'],
    ] as const) {
      const { stdout, stderr } = await coapClient(['-m', 'get', '-B', '5', `${url}${path}`]);
      assert.match(stdout + stderr, new RegExp(code.replace('.', '\\.')), path);
    }
  });

  it('answers 4.05 for other methods on a firmware resource', async () => {
    const { stdout, stderr } = await coapClient([
      '-m',
      'put',
      '-e',
      'x',
      '-B',
      '5',
      `${url}/fw/app/latest/firmware.bin`,
    ]);
    assert.match(stdout + stderr, /4\.05/);
  });

  it('lists the firmware resources in /.well-known/core with rt, sz, ct and obs on the latest ones', async () => {
    const listing = await eventually(async () => {
      const text = await get('/.well-known/core');
      return text.includes('</fw/labelled/latest/firmware.bin>') ? text : undefined;
    });
    const links = listing.trim().split(',');
    assert.ok(
      links.includes(`</fw/app/latest/firmware.bin>;rt="firmware";ct=42;sz=${IMAGE.length};obs`),
      listing,
    );
    assert.ok(links.includes(`</fw/app/1.0.0/firmware.bin>;rt="firmware";ct=42;sz=${IMAGE.length}`), listing);
    assert.ok(links.includes('</fw/labelled/2.1.0/firmware.bin>;rt="firmware";ct=42;sz=14'), listing);
    assert.ok(links.includes('</updates>;rt="firmware-updates"'), listing);
    // Only the newest release of each product: the listing stays bounded as releases accumulate.
    assert.ok(!listing.includes('/fw/app/9.0.0/'), listing);
    const filtered = await get('/.well-known/core?rt=firmware');
    assert.ok(
      filtered.split(',').every((l) => l.includes('rt="firmware"')),
      filtered,
    );
  });

  it('notifies observers of /fw/<p>/latest/<artifact> when a release is published or revoked (RFC 7641)', async () => {
    await publishRelease(server, 'observed', '1.0.0', { 'firmware.bin': Buffer.from('image one') });
    const coap = server.coap?.server;
    assert.ok(coap);
    const before = coap.observerCount;
    const run = coapClient(['-m', 'get', '-s', '6', '-B', '8', `${url}/fw/observed/latest/firmware.bin`]);
    await eventually(async () => (coap.observerCount > before ? true : undefined));
    await publishRelease(server, 'observed', '1.1.0', { 'firmware.bin': Buffer.from('image two') });
    await new Promise((r) => setTimeout(r, 300));
    const revoke = await server.api('/api/v1/products/observed/releases/1.1.0/revoke', { method: 'POST' });
    assert.ok(revoke.status < 300, String(revoke.status));
    const { stdout } = await run;
    assert.match(stdout, /image one[\s\S]*image two[\s\S]*image one/);
  });
});
