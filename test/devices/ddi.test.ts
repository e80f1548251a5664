import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { publishRelease, startTestServer, tempDir, type TestServer } from '../support/server.js';
import { deviceRecord, json } from './helpers.js';

type Links = Record<string, { href: string }>;
interface Poll {
  config: { polling: { sleep: string } };
  _links?: Links;
}
interface DeploymentBase {
  id: string;
  deployment: {
    download: string;
    update: string;
    chunks: {
      part: string;
      version: string;
      name: string;
      artifacts: {
        filename: string;
        size: number;
        hashes: { sha1: string; md5: string; sha256: string };
        _links: Links;
      }[];
    }[];
  };
}

/** The hawkBit DDI wire (specs/device-protocols.md §6) as the clients in §6.4 use it. */
describe('hawkBit DDI API', () => {
  let server: TestServer;
  const image = randomBytes(10_000);
  const sha1 = createHash('sha1').update(image).digest('hex');
  let target: string;
  let gateway: string;

  async function newToken(product: string, device?: string): Promise<string> {
    const res = await server.api('/api/v1/tokens', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ kind: 'device', product, ...(device ? { device } : {}) }),
    });
    assert.equal(res.status, 201);
    return ((await res.json()) as { token: string }).token;
  }

  before(async () => {
    server = await startTestServer({ ddiTenants: { default: ['*'], acme: ['other'] } });
    await publishRelease(
      server,
      'lnx',
      '1.0.0',
      { 'rootfs.swu': image },
      { settings: { ddi: { pollingSleep: '30:00:00' } } },
    );
    target = await newToken('lnx', 'dev-1');
    gateway = await newToken('lnx');
  });
  after(async () => server?.close());

  const base = (id = 'dev-1', tenant = 'default') => `${server.url}/${tenant}/controller/v1/${id}`;
  const as = (token: string, scheme = 'TargetToken') => ({ Authorization: `${scheme} ${token}` });
  const get = (url: string, headers: Record<string, string> = as(target)) => fetch(url, { headers });
  const post = (url: string, body: string, headers: Record<string, string> = as(target), method = 'POST') =>
    fetch(url, { method, headers: { ...headers, 'content-type': 'application/json' }, body });

  async function poll(id = 'dev-1', headers = as(target)): Promise<Poll> {
    const res = await get(base(id), headers);
    assert.equal(res.status, 200, await res.clone().text());
    assert.ok(res.headers.get('content-length'), 'Zephyr needs Content-Length');
    return (await res.json()) as Poll;
  }

  it('poll: sleep clamped to 23:59:59, deploymentBase with ?c=, configData', async () => {
    const p = await poll();
    assert.equal(p.config.polling.sleep, '23:59:59');
    assert.match(
      p._links?.deploymentBase?.href ?? '',
      /\/default\/controller\/v1\/dev-1\/deploymentBase\/\d+\?c=-?\d+$/,
    );
    assert.equal(p._links?.configData?.href, `${base()}/configData`);
    assert.equal(
      (await poll())._links?.deploymentBase?.href,
      p._links?.deploymentBase?.href,
      'stable action id',
    );
  });

  it('deploymentBase: id as a string, one chunk, sha1/md5/sha256, download-http only over plain HTTP', async () => {
    const href = (await poll())._links?.deploymentBase?.href ?? '';
    const res = await get(href);
    assert.equal(res.status, 200);
    const d = (await res.json()) as DeploymentBase;
    assert.equal(typeof d.id, 'string');
    assert.ok(href.includes(`/deploymentBase/${d.id}?`));
    assert.equal(d.deployment.download, 'forced');
    assert.equal(d.deployment.update, 'forced');
    const [chunk] = d.deployment.chunks;
    assert.equal(d.deployment.chunks.length, 1);
    assert.deepEqual([chunk?.part, chunk?.version, chunk?.name], ['bApp', '1.0.0', 'lnx']);
    const [a] = chunk?.artifacts ?? [];
    assert.equal(a?.filename, 'rootfs.swu');
    assert.equal(a?.size, image.length);
    assert.equal(a?.hashes.sha1, sha1);
    assert.equal(a?.hashes.sha256, createHash('sha256').update(image).digest('hex'));
    assert.deepEqual(Object.keys(a?._links ?? {}).sort(), ['download-http', 'md5sum-http']);

    const dl = a?._links['download-http']?.href ?? '';
    const whole = await get(dl);
    assert.equal(whole.status, 200);
    assert.equal(whole.headers.get('content-disposition'), 'attachment;filename=rootfs.swu');
    assert.equal(whole.headers.get('accept-ranges'), 'bytes');
    const etag = whole.headers.get('etag') ?? '';
    assert.deepEqual(Buffer.from(await whole.arrayBuffer()), image);
    const part = await get(dl, { ...as(target), Range: 'bytes=100-199' });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 100-199/${image.length}`);
    assert.deepEqual(Buffer.from(await part.arrayBuffer()), image.subarray(100, 200));
    const beyond = await get(dl, { ...as(target), Range: `bytes=${image.length}-` });
    assert.equal(beyond.status, 416);
    assert.equal((await get(dl, { ...as(target), 'If-None-Match': etag })).status, 304);
    const md5 = await get(a?._links['md5sum-http']?.href ?? '');
    assert.equal(md5.status, 200);
    assert.equal(await md5.text(), `${a?.hashes.md5}  rootfs.swu`);
    assert.equal(md5.headers.get('content-disposition'), 'attachment;filename=rootfs.swu.MD5SUM');

    const list = await get(dl.replace(/\/rootfs\.swu$/, ''));
    assert.equal(list.status, 200);
    assert.deepEqual(
      ((await list.json()) as { filename: string }[]).map((x) => x.filename),
      ['rootfs.swu'],
    );
  });

  it('feedback is parsed leniently (int id, cnt > of, raw newline); 400 for nonsense; 410 once closed', async () => {
    const href = (await poll())._links?.deploymentBase?.href ?? '';
    const id = ((await (await get(href)).json()) as DeploymentBase).id;
    const fb = `${base()}/deploymentBase/${id}/feedback`;
    // Exactly what SWUpdate's printf builds (§6.6).
    const swupdate = `{"id": ${id}, "time": "20261201T120000", "status": {"result": {"progress": {"cnt": 1, "of": 0}, "finished": "none"}, "execution": "proceeding", "details": [ "line one\nline two" ]}}`;
    assert.equal((await post(fb, swupdate)).status, 200);
    assert.equal((await post(fb, '{"status":{"execution":"exploded"}}')).status, 400);
    assert.equal((await post(fb, 'not json')).status, 400);
    const cbor = await fetch(fb, {
      method: 'POST',
      headers: { ...as(target), 'content-type': 'application/cbor' },
      body: Buffer.from([0xa0]),
    });
    assert.equal(cbor.status, 415, 'CBOR bodies are not supported');
    assert.equal((await get(`${base()}/confirmationBase`)).status, 404, 'confirmationBase is not supported');
    assert.equal((await post(`${base()}/deploymentBase/12345/feedback`, swupdate)).status, 410);
    const closed =
      '{"id":"1","status":{"execution":"closed","result":{"finished":"success"},"details":["done"]}}';
    assert.equal((await post(fb, closed)).status, 200);
    assert.equal((await post(fb, closed)).status, 410, 'the action is no longer active');
    const device = await deviceRecord(server, 'dev-1');
    assert.equal(device?.version, '1.0.0');
    const details = device?.history
      .filter((e) => e.kind === 'deployment')
      .map((e) => e.detail?.replace(/^reported /, ''));
    assert.ok(
      details?.includes('downloading: proceeding/none 1/0: line one\nline two'),
      JSON.stringify(details),
    );
    assert.ok(details?.includes('succeeded: closed/success: done'));
    const after = await poll();
    assert.equal(after._links?.deploymentBase, undefined);
    const installed = await get(after._links?.installedBase?.href ?? '');
    assert.equal(installed.status, 200);
    assert.equal(((await installed.json()) as DeploymentBase).id, id);
  });

  it('configData: merge, replace and remove become device attributes', async () => {
    const put = (body: unknown) => post(`${base()}/configData`, JSON.stringify(body), as(target), 'PUT');
    assert.equal(
      (await put({ id: '', time: '', mode: 'merge', data: { VIN: 'abc', hwRevision: '3' }, status: {} }))
        .status,
      200,
    );
    assert.equal((await deviceRecord(server, 'dev-1'))?.attributes.VIN, 'abc');
    assert.equal((await poll())._links?.configData, undefined, 'asked once');
    assert.equal((await put({ mode: 'replace', data: { board: 'b2' } })).status, 200);
    let attrs = (await deviceRecord(server, 'dev-1'))?.attributes ?? {};
    assert.equal(attrs.VIN, undefined);
    assert.equal(attrs.board, 'b2');
    assert.ok(attrs['ddi-installed'], "replace keeps Updraft's own attributes");
    assert.equal((await put({ mode: 'remove', data: { board: '' } })).status, 200);
    attrs = (await deviceRecord(server, 'dev-1'))?.attributes ?? {};
    assert.equal(attrs.board, undefined);
    assert.equal((await put({ mode: 'upsert', data: {} })).status, 400);
    assert.equal((await put({ data: { 'ddi-closed': '1' } })).status, 400);
  });

  it('auth: TargetToken bound to its device, GatewayToken registers, tenants, anonymous off', async () => {
    assert.equal((await get(base('dev-2'))).status, 401, "another device's TargetToken");
    assert.equal((await get(base('dev-1'), {})).status, 401, 'anonymous DDI is off');
    assert.equal((await get(base('dev-1'), { Authorization: 'Bearer x' })).status, 401);
    assert.equal(
      (await get(base('dev-1'), as(target, 'GatewayToken'))).status,
      401,
      'a device-bound token is no gateway',
    );
    const p = await poll('gw-new-1', as(gateway, 'GatewayToken'));
    assert.ok(p._links?.deploymentBase);
    assert.equal((await deviceRecord(server, 'gw-new-1'))?.product, 'lnx');
    assert.equal((await get(base('dev-1', 'acme'))).status, 404, 'tenant acme does not see lnx');
    assert.equal((await get(base('dev-1', 'nope'))).status, 404);
    assert.equal((await get(`${server.url}/default/controller/v1/bad%20id`)).status, 404);

    await publishRelease(
      server,
      'open',
      '1.0.0',
      { 'a.swu': image },
      { settings: { ddi: { anonymous: true } } },
    );
    await publishRelease(server, 'other', '1.0.0', { 'a.swu': image });
    const anon = await fetch(base('anon-1', 'acme'));
    assert.equal(anon.status, 401, 'tenant acme has no anonymous product');
    const open = await fetch(base('anon-1'));
    assert.equal(open.status, 200, await open.clone().text());
    assert.equal((await deviceRecord(server, 'anon-1'))?.product, 'open');
    const otherGateway = await newToken('other');
    assert.equal(
      (await get(base('gw-new-1'), as(otherGateway, 'GatewayToken'))).status,
      403,
      'device of another product',
    );
  });

  it("settings.ddi is checked when the product is written: a mistake is the operator's 400", async () => {
    for (const ddi of [
      { pollingSleep: 'soon' },
      { update: 'maybe' },
      { anonymous: 'yes' },
      { artifacts: 'a.swu' },
    ]) {
      const res = await server.api('/api/v1/products', {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ name: 'badsettings', settings: { ddi } }),
      });
      assert.equal(res.status, 400, JSON.stringify(ddi));
    }
    assert.equal((await server.api('/api/v1/products/badsettings')).status, 404, 'nothing was created');
  });

  it('HTTPS adds download and md5sum links', async () => {
    const dir = await tempDir('updraft-ddi-tls-');
    const [cert, key] = [join(dir, 'cert.pem'), join(dir, 'key.pem')];
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
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    const tls = await startTestServer({ tlsCert: cert, tlsKey: key, dataDir: server.dataDir });
    try {
      const getTls = (path: string) =>
        new Promise<string>((resolve, reject) => {
          const req = httpsRequest(
            `https://127.0.0.1:${tls.httpPort}${path}`,
            { ca: readFileSync(cert), headers: as(target) },
            (res) => {
              let body = '';
              res.on('data', (d: Buffer) => (body += d.toString()));
              res.on('end', () => resolve(body));
            },
          );
          req.on('error', reject);
          req.end();
        });
      const p = JSON.parse(
        await getTls('/default/controller/v1/fresh-1'.replace('fresh-1', 'dev-1')),
      ) as Poll;
      const installed = p._links?.installedBase?.href ?? '';
      assert.match(installed, /^https:\/\//);
      const d = JSON.parse(await getTls(new URL(installed).pathname)) as DeploymentBase;
      const links = d.deployment.chunks[0]?.artifacts[0]?._links ?? {};
      assert.deepEqual(Object.keys(links).sort(), ['download', 'download-http', 'md5sum', 'md5sum-http']);
      assert.match(
        links.download?.href ?? '',
        /^https:\/\/127\.0\.0\.1:\d+\/default\/controller\/v1\/dev-1\/softwaremodules\/\d+\/artifacts\/rootfs\.swu$/,
      );
    } finally {
      await tls.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
