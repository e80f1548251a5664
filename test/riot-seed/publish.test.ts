import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { coapClient } from '../coap/helpers.js';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../support/server.js';
import { formBody, seedForm, startScriptedDevice, type ScriptedDevice } from './helpers.js';

const ID = 'samr21-xpro_suit_update';
const BUILD = '/home/riot/RIOT/examples/suit_update/bin/samr21-xpro';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** What `make suit/publish` uploads for a SUIT v4 build (seeds.md §1.5), keyed by the path as curl sends it. */
function build(version: number) {
  const files = {
    manifest: randomBytes(420),
    unsigned: randomBytes(380),
    slot0: randomBytes(10_000),
    slot1: randomBytes(9_000),
  };
  return {
    files,
    form: {
      [`${BUILD}/suit_update-riot.suitv4_signed.${version}.bin`]: files.manifest,
      [`${BUILD}/suit_update-riot.suitv4.${version}.bin`]: files.unsigned,
      [`${BUILD}/suit_update-slot0.${version}.riot.bin`]: files.slot0,
      [`${BUILD}/suit_update-slot1.${version}.riot.bin`]: files.slot1,
    },
  };
}

interface AuditBody {
  items: { action: string; actor: { id: string | null; name: string }; address: string | null }[];
}

interface PublishIdsBody {
  items: { publishId: string; files: { name: string; size: number; sha256: string }[]; versions: string[] }[];
}

describe('RIOT seed: POST /publish, CoAP files, /remove, /coap/url', () => {
  let server: TestServer;
  let dir: string;
  let coapPort: number;
  const first = build(1700000000);
  const second = build(1700000100);

  async function coapGet(path: string, block = 64): Promise<Buffer> {
    const out = join(dir, `${path.replace(/\W/g, '_')}-${Math.random()}`);
    await coapClient([
      '-m',
      'get',
      '-b',
      String(block),
      '-B',
      '30',
      '-o',
      out,
      `coap://127.0.0.1:${coapPort}/${path}`,
    ]);
    return readFile(out).catch(() => Buffer.alloc(0));
  }
  const publishIds = async () => (await (await server.api('/api/v1/publish-ids')).json()) as PublishIdsBody;
  const publish = (id: string | undefined, files: Record<string, Buffer>) =>
    server.api('/publish', { method: 'POST', body: seedForm(id, files) });

  before(async () => {
    server = await startTestServer({ coapPort: 0, coapPublicUrl: 'coap://[2001:db8::1]:5683' });
    coapPort = server.coap?.port ?? 0;
    dir = await mkdtemp(join(tmpdir(), 'updraft-riot-seed-'));
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('stores each file under the base name of its field name, with the .latest. copy of the signed manifest', async () => {
    const res = await publish(ID, first.form);
    assert.equal(res.status, 200);
    const body = (await res.json()) as {
      publishId: string;
      version: string;
      files: { name: string; sha256: string }[];
    };
    assert.equal(body.publishId, ID);
    assert.equal(body.version, '0.0.1');
    const names = body.files.map((f) => f.name).sort();
    assert.deepEqual(names, [
      'suit_update-riot.suitv4.1700000000.bin',
      'suit_update-riot.suitv4_signed.1700000000.bin',
      'suit_update-riot.suitv4_signed.latest.bin',
      'suit_update-slot0.1700000000.riot.bin',
      'suit_update-slot1.1700000000.riot.bin',
    ]);
    const latest = body.files.find((f) => f.name === 'suit_update-riot.suitv4_signed.latest.bin');
    assert.equal(latest?.sha256, sha(first.files.manifest));

    const { items } = await publishIds();
    assert.equal(items.length, 1);
    assert.equal(items[0]?.publishId, ID);
    assert.deepEqual(items[0]?.versions, ['1700000000']);
    assert.equal(items[0]?.files.length, 5);
    // With the token, the publish is the token's, not the seed scope's fallback.
    const audit = (await (await server.api(`/api/v1/audit?target=${ID}`)).json()) as AuditBody;
    assert.deepEqual(audit.items.map((e) => `${e.action} ${e.actor.name} ${e.address}`).reverse(), [
      'product.create UPDRAFT_ADMIN_TOKEN 127.0.0.1',
      'release.create UPDRAFT_ADMIN_TOKEN 127.0.0.1',
    ]);
  });

  it('serves every file over CoAP block-wise (64-byte blocks, as RIOT asks), byte-identical', async () => {
    assert.ok((await coapGet(`${ID}/suit_update-slot0.1700000000.riot.bin`)).equals(first.files.slot0));
    assert.ok(
      (await coapGet(`${ID}/suit_update-riot.suitv4_signed.latest.bin`)).equals(first.files.manifest),
    );
    assert.ok((await coapGet(`${ID}/suit_update-slot1.1700000000.riot.bin`, 1024)).equals(first.files.slot1));
    const missing = await coapClient([
      '-m',
      'get',
      '-B',
      '5',
      `coap://127.0.0.1:${coapPort}/${ID}/nothing.bin`,
    ]);
    assert.match(missing.stdout + missing.stderr, /4\.04|not found/i);
    assert.doesNotMatch(missing.stdout, /\/tmp|updraft-test/, 'no server path in the 4.04');
  });

  it('a later publish moves .latest. to the new build; older files stay served', async () => {
    const res = await publish(ID, second.form);
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { version: string }).version, '0.0.2');
    assert.ok(
      (await coapGet(`${ID}/suit_update-riot.suitv4_signed.latest.bin`)).equals(second.files.manifest),
    );
    assert.ok((await coapGet(`${ID}/suit_update-slot0.1700000000.riot.bin`)).equals(first.files.slot0));
    const { items } = await publishIds();
    assert.deepEqual(items[0]?.versions.sort(), ['1700000000', '1700000100']);
    assert.equal(
      items[0]?.files.find((f) => f.name === 'suit_update-riot.suitv4_signed.latest.bin')?.sha256,
      sha(second.files.manifest),
    );
  });

  it('GET /coap/url/<publish_id> answers the configured CoAP root, never a loopback default', async () => {
    const res = await server.api(`/coap/url/${ID}`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), `coap://[2001:db8::1]:5683/${ID}`);
    // The seed kept only the last segment (/coap/url/a/b → …/b) but stored under a_b: here both agree.
    assert.equal(await (await server.api('/coap/url/a/b')).text(), 'coap://[2001:db8::1]:5683/a_b');
  });

  it('POST /remove with a version (form fields) deletes exactly that build; .latest. falls back', async () => {
    const res = await server.api('/remove', formBody({ publish_id: ID, version: '1700000100' }));
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { removed: ['0.0.2'] });
    assert.ok(
      (await coapGet(`${ID}/suit_update-riot.suitv4_signed.latest.bin`)).equals(first.files.manifest),
    );
    const gone = await coapClient([
      '-m',
      'get',
      '-B',
      '5',
      `coap://127.0.0.1:${coapPort}/${ID}/suit_update-slot0.1700000100.riot.bin`,
    ]);
    assert.match(gone.stdout + gone.stderr, /4\.04|not found/i);
    assert.deepEqual((await publishIds()).items[0]?.versions, ['1700000000']);
    // Exact match: "17" is no version here (the seed removed every name containing it).
    assert.equal((await server.api('/remove', formBody({ publish_id: ID, version: '17' }))).status, 404);
  });

  it('POST /remove as JSON without a version (the seed page) deletes the publish id', async () => {
    const res = await server.api('/remove', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ publish_id: ID }),
    });
    assert.equal(res.status, 200);
    assert.deepEqual((await publishIds()).items, []);
    assert.equal((await server.api(`/api/v1/products/${ID}`)).status, 404);
    const gone = await coapClient([
      '-m',
      'get',
      '-B',
      '5',
      `coap://127.0.0.1:${coapPort}/${ID}/suit_update-slot0.1700000000.riot.bin`,
    ]);
    assert.match(gone.stdout + gone.stderr, /4\.04|not found/i);
    assert.equal((await server.api('/remove', formBody({ publish_id: ID }))).status, 404);
  });

  it('names the product after the publish id with unsafe characters replaced, remembering the original', async () => {
    const res = await publish('boards/native app', { 'x/riot.suit.5.bin': randomBytes(100) });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { path: string; files: { name: string }[] };
    assert.equal(body.path, 'boards_native_app');
    assert.deepEqual(body.files.map((f) => f.name).sort(), ['riot.suit.5.bin', 'riot.suit.latest.bin']);
    const product = (await (await server.api('/api/v1/products/boards_native_app')).json()) as {
      deviceFamily: string;
      settings: { publishId: string };
    };
    assert.equal(product.deviceFamily, 'riot-publish');
    assert.equal(product.settings.publishId, 'boards/native app');
    assert.ok((await publishIds()).items.some((i) => i.publishId === 'boards/native app'));
    assert.equal((await server.api('/remove', formBody({ publish_id: 'boards/native app' }))).status, 200);
  });

  it('refuses bad input with 400 and stores nothing', async () => {
    const file = { 'app-riot.suitv4_signed.1.bin': randomBytes(10) };
    const cases: [string, Response][] = [
      ['missing publish_id', await publish(undefined, file)],
      ['empty publish_id', await publish('', file)],
      ['".." publish_id', await publish('..', file)],
      ['"a/../b"-style publish_id', await publish('a..b', file)],
      ['publish_id shadowing /fw', await publish('fw', file)],
      ['too long publish_id', await publish('x'.repeat(200), file)],
      ['no file', await publish('fresh', {})],
      ['".." file name', await publish('fresh', { 'build/..': randomBytes(10) })],
      [
        'a bad file after a good one',
        await publish('fresh', { 'ok.1.bin': randomBytes(10), 'a\\..': randomBytes(5) }),
      ],
      ['not multipart', await server.api('/publish', formBody({ publish_id: 'fresh' }))],
    ];
    for (const [what, res] of cases) {
      assert.equal(res.status, 400, `${what}: ${res.status} ${await res.text()}`);
    }
    const noFile = await publish('fresh', {});
    assert.match(((await noFile.json()) as { message: string }).message, /No file found in request/);
    assert.deepEqual((await publishIds()).items, []);
    assert.equal((await server.api('/api/v1/products/fresh')).status, 404);
    assert.equal((await server.api('/remove', formBody({ publish_id: '../x' }))).status, 400);
    // fetch would normalise the path; node:http sends it as written.
    const { request } = await import('node:http');
    const dotdot = await new Promise<number>((resolve, reject) =>
      request(
        {
          host: '127.0.0.1',
          port: server.httpPort,
          path: '/coap/url/%2E%2E',
          headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      )
        .on('error', reject)
        .end(),
    );
    assert.equal(dotdot, 400);
  });

  it('does not take over a product of another family (409)', async () => {
    await server.api('/api/v1/products', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'thermostat', deviceFamily: 'esp8266' }),
    });
    const res = await publish('thermostat', { 'a.1.bin': randomBytes(10) });
    assert.equal(res.status, 409);
    assert.equal((await server.api('/remove', formBody({ publish_id: 'thermostat' }))).status, 404);
    const coap = await coapClient([
      '-m',
      'get',
      '-B',
      '5',
      `coap://127.0.0.1:${coapPort}/thermostat/a.1.bin`,
    ]);
    assert.match(coap.stdout + coap.stderr, /4\.04|not found/i);
  });

  it('requires the admin token on every seed endpoint', async () => {
    const anonymous = [
      await fetch(`${server.url}/publish`, {
        method: 'POST',
        body: seedForm('anon', { 'a.1.bin': randomBytes(5) }),
      }),
      await fetch(`${server.url}/notify`, formBody({ publish_id: 'anon', urls: '[::1]' })),
      await fetch(`${server.url}/notifyv4`, formBody({ publish_id: 'anon', urls: '[::1]', version: '1' })),
      await fetch(`${server.url}/remove`, formBody({ publish_id: 'anon' })),
      await fetch(`${server.url}/coap/url/anon`),
      await fetch(`${server.url}/coap/url/anon`, { headers: { Authorization: 'Bearer wrong' } }),
    ];
    for (const res of anonymous) assert.equal(res.status, 401, res.url);
    assert.equal((await server.api('/api/v1/products/anon')).status, 404);
  });
});

describe('RIOT seed endpoints with the admin token turned off, and no CoAP public URL', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ seedEndpointsAuth: false });
  });
  after(() => server.close());

  it('accepts the seed clients as they are (no token), and refuses URLs it cannot build', async () => {
    const res = await fetch(`${server.url}/publish`, {
      method: 'POST',
      body: seedForm('open_app', { 'bin/app-slot0.riot.suit.7.bin': randomBytes(64) }),
    });
    assert.equal(res.status, 200);
    // CoAP is off here, so there is no URL to derive: a plain-text error (the RIOT makefile pastes the body).
    const url = await fetch(`${server.url}/coap/url/open_app`);
    assert.equal(url.status, 400);
    assert.match(url.headers.get('content-type') ?? '', /^text\/plain/);
    assert.match(await url.text(), /^INVALID_INPUT: .*--coap-public-url/);
    const notify = await fetch(
      `${server.url}/notify`,
      formBody({ publish_id: 'open_app', urls: '127.0.0.1:9' }),
    );
    assert.equal(notify.status, 400);
    assert.match(((await notify.json()) as { message: string }).message, /--coap-public-url/);
    const removed = await fetch(`${server.url}/remove`, formBody({ publish_id: 'open_app' }));
    assert.equal(removed.status, 200);
    // The management API keeps its token whatever this setting says.
    assert.equal((await fetch(`${server.url}/api/v1/publish-ids`)).status, 401);
    const listed = await fetch(`${server.url}/api/v1/publish-ids`, {
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    assert.deepEqual(await listed.json(), { items: [] });
    // Without a token, what the seed clients change is recorded as `riot-seed`, from their address.
    const audit = (await (
      await fetch(`${server.url}/api/v1/audit?target=open_app`, {
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
      })
    ).json()) as AuditBody;
    assert.deepEqual(audit.items.map((e) => `${e.action} ${e.actor.name} ${e.address}`).reverse(), [
      'product.create riot-seed 127.0.0.1',
      'release.create riot-seed 127.0.0.1',
      'release.delete riot-seed 127.0.0.1',
      'product.delete riot-seed 127.0.0.1',
    ]);
    assert.ok(audit.items.every((e) => e.actor.id === null));
  });
});

describe('RIOT seed: publish_id in any order, and CoAP URLs without --coap-public-url', () => {
  let server: TestServer;
  let device: ScriptedDevice;
  before(async () => {
    server = await startTestServer({ coapPort: 0, seedEndpointsAuth: false });
    device = await startScriptedDevice({ inactiveSlot: 1 });
  });
  after(async () => {
    await device.close();
    await server.close();
  });

  it('accepts publish_id after the file parts, as the seed (Tornado) does', async () => {
    const manifest = randomBytes(200);
    const slot = randomBytes(3000);
    // curl -F <file>=@<file> -F publish_id=…: the files first.
    const form = new FormData();
    form.append('bin/late-riot.suitv4_signed.5.bin', new Blob([manifest]), 'late-riot.suitv4_signed.5.bin');
    form.append('bin/late-slot0.5.riot.bin', new Blob([slot]), 'late-slot0.5.riot.bin');
    form.set('publish_id', 'late_app');
    const res = await fetch(`${server.url}/publish`, { method: 'POST', body: form });
    assert.equal(res.status, 200, await res.clone().text());
    const files = (
      (await (await server.api('/api/v1/publish-ids')).json()) as {
        items: { publishId: string; files: { name: string; sha256: string }[] }[];
      }
    ).items.find((i) => i.publishId === 'late_app')?.files;
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    assert.deepEqual(
      files?.map((f) => [f.name, f.sha256]).sort(),
      [
        ['late-riot.suitv4_signed.5.bin', sha(manifest)],
        ['late-riot.suitv4_signed.latest.bin', sha(manifest)],
        ['late-slot0.5.riot.bin', sha(slot)],
      ].sort(),
    );
    const missing = new FormData();
    missing.append('bin/x.1.bin', new Blob([slot]), 'x.1.bin');
    const refused = await fetch(`${server.url}/publish`, { method: 'POST', body: missing });
    assert.equal(refused.status, 400, 'files and no publish_id at all');
  });

  it('derives the CoAP root from the Host the client used and the CoAP port', async () => {
    const port = server.coap?.port;
    assert.ok(port);
    const url = await fetch(`${server.url}/coap/url/late_app`);
    assert.equal(url.status, 200);
    assert.match(url.headers.get('content-type') ?? '', /^text\/plain/);
    assert.equal(await url.text(), `coap://127.0.0.1:${port}/late_app`);
    const { request } = await import('node:http');
    const viaName = await new Promise<string>((resolve, reject) =>
      request(
        {
          host: '127.0.0.1',
          port: server.httpPort,
          path: '/coap/url/late_app',
          headers: { Host: '[fd00::1]:8080' },
        },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve(body));
        },
      )
        .on('error', reject)
        .end(),
    );
    assert.equal(viaName, `coap://[fd00::1]:${port}/late_app`);
    // notify sends the same root to the device.
    const notified = await fetch(
      `${server.url}/notifyv4`,
      formBody({ publish_id: 'late_app', urls: device.address, version: 'latest' }),
    );
    assert.equal(notified.status, 200, await notified.clone().text());
    assert.deepEqual(
      device.received.filter((r) => r.path === 'suit/trigger').map((r) => r.payload),
      [`coap://127.0.0.1:${port}/late_app/late-riot.suitv4_signed.latest.bin`],
    );
  });
});
