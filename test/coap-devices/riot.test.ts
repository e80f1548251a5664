import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createFsKeyStore } from '../../src/storage/keys/fs-key-store.js';
import { publishRelease, tempDir, type TestServer } from '../support/server.js';
import { coapClient, eventually, startCoapTestServer } from './helpers.js';

const FIXTURES = new URL('../fixtures/suit/riot-draft09/', import.meta.url);
const fixture = (name: string) => readFileSync(new URL(name, FIXTURES));
const slot0 = fixture('slot0.1700000000.bin');
const slot1 = fixture('slot1.1700000000.bin');
const BOARD = 'samr21-xpro';
const RIOT_PRODUCT = {
  deviceFamily: 'riot',
  hardwareClass: BOARD,
  settings: { suit: { key: 'riot', slot0Offset: 0x1000, slot1Offset: '0x20800' } },
};

interface ReleaseBody {
  artifacts: { name: string; size: number }[];
}

describe('RIOT SUIT resources over CoAP (/fw/<app>/<board>/...)', () => {
  let server: TestServer;
  let url: string;
  let dataDir: string;
  let seq: number;
  let manifest: Buffer;

  const download = async (path: string, out: string, block = '64'): Promise<Buffer> => {
    await coapClient(['-m', 'get', '-b', block, '-B', '20', '-o', out, `${url}${path}`]);
    return readFile(out);
  };

  before(async () => {
    dataDir = await tempDir();
    await createFsKeyStore({ dir: join(dataDir, 'keys') }).generate('riot', 'ed25519');
    ({ server, url } = await startCoapTestServer({ dataDir, coapPublicUrl: 'coap://[2001:db8::1]' }));
    const release = (await publishRelease(
      server,
      'suit_update',
      '1.0.0',
      { slot0, slot1 },
      RIOT_PRODUCT,
    )) as unknown as ReleaseBody;
    const name = release.artifacts.map((a) => a.name).find((n) => /^riot\.suit\.\d+\.bin$/.test(n));
    assert.ok(name);
    seq = Number(name.split('.')[2]);
    const res = await server.api(`/api/v1/products/suit_update/releases/1.0.0/artifacts/${name}`);
    manifest = Buffer.from(await res.arrayBuffer());
  });
  after(async () => {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('serves riot.suit.latest.bin, riot.suit.<seq>.bin and slotN.<seq>.bin byte-identical in 64-byte blocks', async () => {
    const root = `/fw/suit_update/${BOARD}`;
    assert.ok((await download(`${root}/riot.suit.latest.bin`, join(dataDir, 'latest.bin'))).equals(manifest));
    assert.ok((await download(`${root}/riot.suit.${seq}.bin`, join(dataDir, 'seq.bin'))).equals(manifest));
    assert.ok((await download(`${root}/slot0.${seq}.bin`, join(dataDir, 'slot0.bin'))).equals(slot0));
    assert.ok((await download(`${root}/slot1.${seq}.bin`, join(dataDir, 'slot1.bin'), '1024')).equals(slot1));
  });

  it('answers 4.04 for another board, an unknown sequence number or a generic path on a RIOT product', async () => {
    for (const path of [
      `/fw/suit_update/native/riot.suit.latest.bin`,
      `/fw/suit_update/${BOARD}/slot0.${seq + 1}.bin`,
      `/fw/suit_update/${BOARD}/riot.suit.${seq + 1}.bin`,
      `/fw/suit_update/${BOARD}/slot2.${seq}.bin`,
      `/fw/suit_update/latest/slot0`,
    ]) {
      const { stdout, stderr } = await coapClient(['-m', 'get', '-B', '5', `${url}${path}`]);
      assert.match(stdout + stderr, /4\.04/, path);
    }
  });

  it('lists the manifest and slots in /.well-known/core, the latest manifest observable', async () => {
    const { stdout } = await coapClient([
      '-m',
      'get',
      '-B',
      '5',
      `${url}/.well-known/core?href=/fw/suit_update*`,
    ]);
    const links = stdout.trim().split(',');
    const root = `/fw/suit_update/${BOARD}`;
    assert.ok(
      links.includes(`<${root}/riot.suit.latest.bin>;rt="suit-manifest";ct=42;sz=${manifest.length};obs`),
      stdout,
    );
    assert.ok(
      links.includes(`<${root}/riot.suit.${seq}.bin>;rt="suit-manifest";ct=42;sz=${manifest.length}`),
      stdout,
    );
    assert.ok(links.includes(`<${root}/slot0.${seq}.bin>;rt="firmware";ct=42;sz=${slot0.length}`), stdout);
    assert.ok(links.includes(`<${root}/slot1.${seq}.bin>;rt="firmware";ct=42;sz=${slot1.length}`), stdout);
  });

  it('notifies observers of riot.suit.latest.bin with the new manifest when a release is published', async () => {
    const coap = server.coap?.server;
    assert.ok(coap);
    const before = coap.observerCount;
    const out = join(dataDir, 'observed.bin');
    const run = coapClient([
      '-m',
      'get',
      '-s',
      '4',
      '-B',
      '6',
      '-v',
      '6',
      '-o',
      out,
      `${url}/fw/suit_update/${BOARD}/riot.suit.latest.bin`,
    ]);
    await eventually(async () => (coap.observerCount > before ? true : undefined));
    const next = (await publishRelease(server, 'suit_update', '1.1.0', {
      slot0,
      slot1,
    })) as unknown as ReleaseBody;
    const name = next.artifacts.map((a) => a.name).find((n) => /^riot\.suit\.\d+\.bin$/.test(n));
    assert.ok(name && Number(name.split('.')[2]) > seq);
    const res = await server.api(`/api/v1/products/suit_update/releases/1.1.0/artifacts/${name}`);
    const newManifest = Buffer.from(await res.arrayBuffer());
    const { stdout, stderr } = await run;
    // libcoap logs each response it receives; the ETag option is the manifest's sha256 prefix.
    const { createHash } = await import('node:crypto');
    const etagOf = (b: Buffer) => createHash('sha256').update(b).digest().subarray(0, 8).toString('hex');
    const log = (stdout + stderr).toLowerCase();
    assert.ok(log.includes(etagOf(manifest)), 'first response carries the first manifest ETag');
    assert.ok(log.includes(etagOf(newManifest)), 'a notification carries the new manifest ETag');
    const observed = await readFile(out);
    assert.ok(observed.includes(newManifest), 'the new manifest reached the observer');
  });
});
