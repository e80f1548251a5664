import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ADMIN_TOKEN, releaseForm, spawnServer, tempDir, type SpawnedServer } from '../support/server.js';
import { coapClient } from './helpers.js';

/**
 * `serve --workers 2`: both workers serve CoAP on the one port (docs/coap.md, "On every core"). Downloads are
 * checked byte for byte (coap-client exits 0 even on 4.xx), both workers must have answered blocks, and an
 * observer hears of releases published through either worker.
 */
describe('CoAP with --workers 2', () => {
  let dataDir: string;
  let server: SpawnedServer;
  let coapPort: number;
  const image = randomBytes(96 * 1024 + 100);
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${server.url}${path}`, {
      ...init,
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, Connection: 'close', ...init.headers },
    });
  const publish = async (product: string, version: string, bytes: Buffer) => {
    const res = await api(`/api/v1/products/${product}/releases`, {
      method: 'POST',
      body: releaseForm(version, { 'firmware.bin': bytes }, { publish: 'true' }),
    });
    assert.equal(res.status, 201, await res.text());
  };
  const createProduct = async (name: string) => {
    const res = await api('/api/v1/products', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name }),
    });
    assert.equal(res.status, 201, await res.text());
  };

  before(async () => {
    dataDir = await tempDir('updraft-coap-workers-');
    coapPort = await new Promise<number>((resolve) => {
      const s = dgram.createSocket('udp4');
      s.bind(0, '127.0.0.1', () => {
        const { port } = s.address();
        s.close(() => resolve(port));
      });
    });
    server = await spawnServer(
      dataDir,
      ['--workers', '2', '--coap-port', String(coapPort)],
      { UPDRAFT_COAP_SOURCE_RATE: '0' },
      { startTimeoutMs: 90_000 },
    );
    await createProduct('spread');
    await publish('spread', '1.0.0', image);
  });
  after(async () => {
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** Each worker's count of CoAP answers, sampled through HTTP (new connections go to the workers in turn). */
  async function coapCountsSeen(): Promise<Set<number>> {
    const seen = new Set<number>();
    for (let i = 0; i < 8; i++) {
      const text = await (await api('/metrics')).text();
      let sum = 0;
      for (const m of text.matchAll(/^updraft_requests_total\{[^}]*transport="coap"[^}]*\} (\d+)$/gm))
        sum += Number(m[1]);
      seen.add(sum);
    }
    return seen;
  }

  it('downloads byte-exact block-wise with coap-client, the blocks answered by both workers', async () => {
    const clients = 6;
    const url = `coap://127.0.0.1:${coapPort}/fw/spread/latest/firmware.bin`;
    const outs = Array.from({ length: clients }, (_, i) => join(dataDir, `out-${i}.bin`));
    const runs = await Promise.all(
      outs.map((out) => coapClient(['-m', 'get', '-b', '1024', '-B', '60', '-o', out, url])),
    );
    for (const [i, out] of outs.entries()) {
      const got = await readFile(out).catch(() => Buffer.alloc(0));
      assert.ok(got.equals(image), `download ${i}: ${got.length} bytes; ${runs[i]?.stderr ?? ''}`);
    }
    const blocks = clients * Math.ceil(image.length / 1024);
    const seen = await coapCountsSeen();
    // A worker that served nothing shows 0, one that served everything shows every block.
    for (const count of seen) {
      assert.ok(count > 0 && count < blocks, `a worker answered ${count} of ${blocks} blocks`);
    }
  });

  it('an observer hears of releases published through either worker', async () => {
    await createProduct('observed');
    await publish('observed', '1.0.0', Buffer.from('image one'));
    const url = `coap://127.0.0.1:${coapPort}/fw/observed/latest/firmware.bin`;
    // Several observers: whichever worker reads a registration, Observe lives in the home worker.
    const observers = Array.from({ length: 3 }, () => coapClient(['-m', 'get', '-s', '8', '-B', '10', url]));
    await new Promise((r) => setTimeout(r, 1500));
    // Consecutive connections go to alternating workers: one of these two publishes goes through each.
    await publish('observed', '1.1.0', Buffer.from('image two'));
    await new Promise((r) => setTimeout(r, 500));
    await publish('observed', '1.2.0', Buffer.from('image three'));
    for (const [i, run] of (await Promise.all(observers)).entries()) {
      assert.match(run.stdout, /image one[\s\S]*image two[\s\S]*image three/, `observer ${i}: ${run.stdout}`);
    }
  });
});
