import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { publishRelease, startTestServer, tempDir, type TestServer } from '../support/server.js';
import { createBucket, rgw } from '../support/rgw.js';
import { buildSwu, makeSigner, requireSwupdate, runSwupdate, type SwupdateRun } from '../support/swupdate.js';
import { deviceRecord, json } from './helpers.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * `--s3-redirect` on the hawkBit DDI download (issue 12: "answer clients that follow redirects (DDI, SWUpdate,
 * browsers) with a 302 to a short-lived presigned URL"): Debian's real SWUpdate fetches its image from Ceph's
 * RADOS Gateway through the redirect, and a DDI client not known to follow redirects is streamed.
 */
describe('hawkBit DDI downloads with --s3-redirect (SWUpdate, RADOS Gateway)', { timeout: 240_000 }, () => {
  let server: TestServer;
  let dir: string;
  let endpoint: string;
  const running: SwupdateRun[] = [];

  before(async () => {
    const s3 = await rgw();
    const bucket = await createBucket(s3, 'ddi-redirect');
    endpoint = s3.endpoint;
    process.env.AWS_ACCESS_KEY_ID = s3.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = s3.secretAccessKey;
    server = await startTestServer({
      blobStore: `s3://${bucket}/updraft`,
      s3Endpoint: s3.endpoint,
      s3ForcePathStyle: true,
      s3Redirect: true,
      s3RedirectTtlS: 60,
    });
    dir = await tempDir('updraft-ddi-redirect-');
  });
  after(async () => {
    for (const r of running) await r.stop();
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function deviceToken(product: string, device: string): Promise<string> {
    const res = await server.api('/api/v1/tokens', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ kind: 'device', product, device }),
    });
    assert.equal(res.status, 201, await res.clone().text());
    return ((await res.json()) as { token: string }).token;
  }

  async function product(name: string): Promise<void> {
    const res = await server.api('/api/v1/products', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ name, deviceFamily: 'linux', settings: { ddi: { pollingSleep: '00:00:01' } } }),
    });
    assert.equal(res.status, 201, await res.clone().text());
  }

  it('SWUpdate follows the 302 to the presigned URL and installs the image', async () => {
    requireSwupdate();
    const signer = await makeSigner(join(dir, 'keys'));
    const config = join(dir, 'swupdate.cfg');
    await writeFile(config, `globals:\n{\n  public-key-file = "${signer.cert}";\n};\n`);
    await product('gw');
    const image = randomBytes(300_000);
    const out = join(dir, 'gw-image.bin');
    await publishRelease(server, 'gw', '1.0.0', {
      'update.swu': await buildSwu(signer, { version: '1.0.0', image, outPath: out }),
    });
    const token = await deviceToken('gw', 'gw-1');
    const run = await runSwupdate(requireSwupdate(), dir, {
      config,
      suricatta: ['-t', 'default', '-u', server.url, '-i', 'gw-1', '-k', token],
    });
    running.push(run);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const device = await deviceRecord(server, 'gw-1');
      const details = device?.history.map((e) => `${e.kind} ${e.detail ?? ''}`) ?? [];
      if (details.some((d) => d.includes('All Chunks Installed'))) {
        assert.ok(
          details.some((d) => d === 'download-started redirected to the object store'),
          `the download went to the object store: ${details.join('\n')}`,
        );
        break;
      }
      if (Date.now() > deadline || run.child.exitCode !== null)
        assert.fail(`not installed: ${details.join('\n')}\nswupdate:\n${run.output().slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.deepEqual(
      await readFile(out),
      image,
      'the rawfile handler wrote the image it fetched from the store',
    );
  });

  it('redirects the DDI clients known to follow a 302 and streams any other', async () => {
    await product('zgw');
    const swu = randomBytes(50_000);
    await publishRelease(server, 'zgw', '1.0.0', { 'update.swu': swu });
    const token = await deviceToken('zgw', 'zgw-1');
    const base = `${server.url}/default/controller/v1/zgw-1`;
    const auth = { Authorization: `TargetToken ${token}` };
    const poll = (await (await fetch(base, { headers: auth })).json()) as {
      _links: { deploymentBase: { href: string } };
    };
    const action = (await (await fetch(poll._links.deploymentBase.href, { headers: auth })).json()) as {
      deployment: { chunks: { artifacts: { _links: { 'download-http': { href: string } } }[] }[] };
    };
    const href = action.deployment.chunks[0]!.artifacts[0]!._links['download-http'].href;

    for (const agent of ['libcurl-agent/1.0', 'rauc-hawkbit-c-agent/1.0']) {
      const res = await fetch(href, { headers: { ...auth, 'User-Agent': agent }, redirect: 'manual' });
      assert.equal(res.status, 302, agent);
      const location = res.headers.get('location') ?? '';
      assert.ok(location.startsWith(`${endpoint}/`), location);
      const direct = await fetch(location);
      assert.equal(direct.status, 200);
      assert.equal(sha256(Buffer.from(await direct.arrayBuffer())), sha256(swu));
    }
    // Zephyr's hawkBit client (no redirect support) and clients that are not known: the bytes from Updraft.
    for (const agent of [undefined, 'zephyr']) {
      const headers: Record<string, string> = { ...auth, ...(agent ? { 'User-Agent': agent } : {}) };
      const res = await fetch(href, { headers, redirect: 'manual' });
      assert.equal(res.status, 200, String(agent));
      assert.equal(sha256(Buffer.from(await res.arrayBuffer())), sha256(swu));
    }
    // HEAD (SWUpdate asks for the size first) stays with Updraft.
    const head = await fetch(href, {
      method: 'HEAD',
      headers: { ...auth, 'User-Agent': 'libcurl-agent/1.0' },
      redirect: 'manual',
    });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(swu.length));
  });
});
