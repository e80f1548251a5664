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
    await createProduct('warm');
    await publish('warm', '1.0.0', Buffer.from('one block'));
  });
  after(async () => {
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  /**
   * Each worker's total of one metric, sampled through HTTP (Connection: close: new connections go to the
   * workers in turn): a set of one value per worker seen.
   */
  async function perWorker(metric: RegExp): Promise<Set<number>> {
    const seen = new Set<number>();
    for (let i = 0; i < 8; i++) {
      const text = await (await api('/metrics')).text();
      let sum = 0;
      for (const m of text.matchAll(metric)) sum += Number(m[1]);
      seen.add(sum);
    }
    return seen;
  }
  const coapAnswers = /^updraft_requests_total\{[^}]*transport="coap"[^}]*\} (\d+)$/gm;
  const bytesOf = (product: string) =>
    new RegExp(`^updraft_served_bytes_total\\{[^}]*product="${product}"[^}]*\\} (\\d+)$`, 'gm');

  /**
   * Until both workers answer CoAP: the HTTP port answers as soon as the first worker listens, the second binds
   * its CoAP socket a little later (under load, seconds). One-block GETs of another product's image, whose bytes
   * the assertion below does not count.
   */
  async function bothWorkersServeCoap(): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      await Promise.all(
        Array.from({ length: 8 }, () =>
          coapClient(['-m', 'get', '-B', '5', `coap://127.0.0.1:${coapPort}/fw/warm/latest/firmware.bin`]),
        ),
      );
      const seen = await perWorker(coapAnswers);
      if (!seen.has(0)) return;
      assert.ok(Date.now() < deadline, `one worker never answered CoAP: ${[...seen].join(', ')}`);
    }
  }

  it('downloads byte-exact block-wise with coap-client, the blocks answered by both workers', async () => {
    await bothWorkersServeCoap();
    // 16 clients: with SO_REUSEPORT (Node 24) the kernel keeps each client on one worker, and all 16 hashing to
    // one of two workers has a chance of 2^-15.
    const clients = 16;
    const url = `coap://127.0.0.1:${coapPort}/fw/spread/latest/firmware.bin`;
    const outs = Array.from({ length: clients }, (_, i) => join(dataDir, `out-${i}.bin`));
    const runs = await Promise.all(
      outs.map((out) => coapClient(['-m', 'get', '-b', '1024', '-B', '60', '-o', out, url])),
    );
    for (const [i, out] of outs.entries()) {
      const got = await readFile(out).catch(() => Buffer.alloc(0));
      assert.ok(got.equals(image), `download ${i}: ${got.length} bytes; ${runs[i]?.stderr ?? ''}`);
    }
    const seen = await perWorker(bytesOf('spread'));
    // A worker that served nothing shows 0, one that served everything shows every byte (two equal shares show
    // as one value).
    for (const bytes of seen) {
      assert.ok(
        bytes > 0 && bytes < clients * image.length,
        `a worker sent ${bytes} of ${clients * image.length} bytes`,
      );
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
