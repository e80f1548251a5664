import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeBlock, encodeBlock } from '../../src/transports/coap/block.js';
import { Code, MessageType, type CoapMessage, type CoapOption } from '../../src/transports/coap/message.js';
import { getOption, Opt } from '../../src/transports/coap/options.js';
import { tempDir, type TestServer } from '../support/server.js';
import { coapClient, encode, RawPeer, startCoapTestServer } from './helpers.js';

const PID = 'OTA-STM32L1-SPIRIT1';
/** The size of the seed's shipped image (seeds.md §4: 354 blocks of 256 bytes). */
const IMAGE = randomBytes(90_624);

/** PIDLEN PID TYPE VERSION [OFFSET], little-endian (seeds.md §4.2). */
function payload(pid: string, type: number, [maj, min, build]: number[], offset?: number): Buffer {
  const head = Buffer.concat([Buffer.from([pid.length]), Buffer.from(pid, 'latin1'), Buffer.from([type])]);
  const version = Buffer.alloc(4);
  version.writeUInt32LE((((maj ?? 0) << 24) | ((min ?? 0) << 16) | (build ?? 0)) >>> 0);
  if (offset === undefined) return Buffer.concat([head, version]);
  const off = Buffer.alloc(4);
  off.writeUInt32LE(offset);
  return Buffer.concat([head, version, off]);
}

let mid = 1;
function request(path: string[], body: Buffer, block2?: Buffer, code: number = Code.GET): Buffer {
  const options: CoapOption[] = path.map((p) => ({ number: Opt.URI_PATH, value: Buffer.from(p) }));
  if (block2 !== undefined) options.push({ number: Opt.BLOCK2, value: block2 });
  mid = (mid + 1) & 0xffff;
  return encode({
    type: MessageType.CON,
    code,
    messageId: mid,
    token: Buffer.from([mid & 0xff, mid >> 8]),
    options,
    payload: body,
  });
}

/** What the Contiki/Erbium device does: the same payload on every block, SZX 4, until M = 0. */
async function fetchAll(
  peer: RawPeer,
  path: string[],
  body: Buffer,
  szx = 4,
): Promise<{ data: Buffer; blocks: number; first: CoapMessage }> {
  const parts: Buffer[] = [];
  let first: CoapMessage | undefined;
  for (let num = 0; ; num++) {
    peer.send(request(path, body, encodeBlock(num, false, szx)));
    const reply = await peer.next(2000);
    assert.equal(reply.code, Code.CONTENT, `block ${num}: ${reply.payload.toString()}`);
    first ??= reply;
    const block = decodeBlock(getOption(reply.options, Opt.BLOCK2) ?? Buffer.alloc(0));
    assert.ok(block && block !== 'reserved-szx' && block.num === num && block.szx === szx);
    parts.push(reply.payload);
    if (!block.more) return { data: Buffer.concat(parts), blocks: num + 1, first };
  }
}

describe('STM32 /updates (firmwaremodules iot-ota-server protocol)', () => {
  let server: TestServer;
  let url: string;
  let port: number;
  let dir: string;
  let peer: RawPeer;

  before(async () => {
    dir = await tempDir('updraft-stm32-');
    await mkdir(join(dir, 'updates'));
    await writeFile(join(dir, 'updates', `${PID}_1_1_31_APP_0xF63D0305.fmu`), IMAGE);
    await writeFile(join(dir, 'updates', `${PID}_1_0_7_APP_0x00000000.fmu`), randomBytes(100));
    await writeFile(join(dir, 'updates', `${PID}_1_1_31_BOOT.fmu`), randomBytes(64));
    await writeFile(join(dir, 'updates', 'dotted.name_1_0_0_APP.fmu'), randomBytes(10));
    ({ server, url, port } = await startCoapTestServer({ firmwareDir: dir }));
    peer = await RawPeer.open(port);
  });
  after(async () => {
    await peer.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('imports updates/<PID>_<MAJ>_<MIN>_<BUILD>_<TYPE>_<x>.fmu as releases of product <PID>', async () => {
    const product = (await (await server.api(`/api/v1/products/${PID}`)).json()) as { deviceFamily: string };
    assert.equal(product.deviceFamily, 'stm32');
    const { items } = (await (await server.api(`/api/v1/products/${PID}/releases`)).json()) as {
      items: { version: string; state: string; artifacts: { name: string; size: number }[] }[];
    };
    assert.deepEqual(
      items.map((r) => [r.version, r.state, r.artifacts.map((a) => `${a.name}:${a.size}`).sort()]),
      [
        ['1.1.31', 'published', ['type-0.fmu:64', `type-3.fmu:${IMAGE.length}`]],
        ['1.0.7', 'published', ['type-3.fmu:100']],
      ],
    );
    assert.equal((await server.api('/api/v1/products/dotted.name')).status, 404);
  });

  it('one-step, offset 0: 2.05 + Block2 in the requested 256-byte blocks, the whole image, one check-in', async () => {
    const since = new Date().toISOString();
    const { data, blocks, first } = await fetchAll(peer, ['updates'], payload(PID, 3, [1, 1, 2], 0));
    assert.equal(blocks, 354);
    assert.ok(data.equals(IMAGE));
    assert.deepEqual(
      getOption(first.options, Opt.ETAG),
      createHash('sha256').update(IMAGE).digest().subarray(0, 8),
    );
    assert.equal(getOption(first.options, Opt.CONTENT_FORMAT), undefined, 'the seed sends no Content-Format');
    await server.services.devices.flush();
    const device = await server.services.devices.get('127.0.0.1');
    assert.equal(device.product, PID);
    assert.equal(device.version, '1.1.2');
    assert.equal(device.protocol, 'stm32-coap');
    assert.equal(device.lastOffered, '1.1.31');
    const recent = (await server.services.devices.history('127.0.0.1', 100)).filter((e) => e.at >= since);
    const count = (kind: string) => recent.filter((e) => e.kind === kind).length;
    assert.equal(count('check-in'), 1, 'later blocks are not new check-ins');
    assert.equal(count('download-started'), 1);
    assert.equal(count('download-completed'), 1);
  });

  it('one-step, non-zero offset: the image from that byte on', async () => {
    const { data } = await fetchAll(peer, ['updates'], payload(PID, 3, [1, 0, 7], 40_000), 6);
    assert.ok(data.equals(IMAGE.subarray(40_000)));
    // Without Block2 the first answer is block 0 of 1024 bytes with M = 1 (as node-coap did).
    peer.send(request(['updates'], payload(PID, 3, [1, 0, 7], 90_000)));
    const reply = await peer.next();
    assert.equal(reply.code, Code.CONTENT);
    assert.ok(reply.payload.equals(IMAGE.subarray(90_000)));
  });

  it('answers RST when there is no newer image, as the seed does', async () => {
    for (const body of [
      payload(PID, 3, [1, 1, 31], 0), // up to date
      payload(PID, 3, [2, 0, 0], 0), // newer than anything published: never lower
      payload(PID, 1, [1, 0, 0], 0), // no image of that TYPE
      payload('NO-SUCH-PID', 3, [0, 0, 1], 0),
      payload('bad/pid', 3, [0, 0, 1], 0),
    ]) {
      peer.send(request(['updates'], body));
      const reply = await peer.next();
      assert.equal(reply.type, MessageType.RST, body.toString('hex'));
      assert.equal(reply.code, Code.EMPTY);
    }
  });

  it('serves a TYPE the newest release of that TYPE, even when a newer release has only another TYPE', async () => {
    await writeFile(join(dir, 'updates', `${PID}_1_2_0_BOOT_0x0.fmu`), randomBytes(48));
    const newest = async () =>
      (
        (await (await server.api(`/api/v1/products/${PID}/releases`)).json()) as {
          items: { version: string }[];
        }
      ).items[0]?.version;
    // The drop folder imports a file once it is unchanged across two scans (2 s apart).
    for (let i = 0; i < 100 && (await newest()) !== '1.2.0'; i++)
      await new Promise((r) => setTimeout(r, 100));
    assert.equal(await newest(), '1.2.0', 'the BOOT-only release is the newest');
    const { data } = await fetchAll(peer, ['updates'], payload(PID, 3, [1, 0, 31], 0));
    assert.ok(data.equals(IMAGE), 'an APP device at 1.0.31 gets the 1.1.31 APP image, not RST');
    const boot = await fetchAll(peer, ['updates'], payload(PID, 0, [1, 1, 31], 0));
    assert.equal(boot.data.length, 48, 'a BOOT device gets the 1.2.0 BOOT image');
  });

  it('answers OFFSET ≥ image size with 4.00 instead of silence', async () => {
    for (const offset of [IMAGE.length, IMAGE.length + 1, 0xffffffff]) {
      peer.send(request(['updates'], payload(PID, 3, [1, 1, 2], offset)));
      const reply = await peer.next();
      assert.equal(reply.code, Code.BAD_REQUEST);
      assert.match(reply.payload.toString(), /OFFSET/);
    }
  });

  it('answers malformed payloads with 4.00 and keeps serving', async () => {
    const good = payload(PID, 3, [1, 1, 2], 0);
    for (const body of [
      Buffer.alloc(0),
      Buffer.from([0]),
      Buffer.from([5, 0x41]),
      good.subarray(0, good.length - 1),
      Buffer.concat([good, Buffer.from([0])]),
      Buffer.from([0xff, ...Buffer.alloc(20)]),
    ]) {
      peer.send(request(['updates'], body));
      const reply = await peer.next();
      assert.equal(reply.code, Code.BAD_REQUEST, body.toString('hex'));
    }
    peer.send(request(['updates'], good, encodeBlock(0, false, 4)));
    const reply = await peer.next();
    assert.equal(reply.code, Code.CONTENT);
    assert.ok(reply.payload.equals(IMAGE.subarray(0, 256)));
  });

  it('implements the README two-step form: an 8-hex id, then /updates/<id> with an OFFSET payload', async () => {
    peer.send(request(['updates'], payload(PID, 3, [1, 1, 2])));
    const step1 = await peer.next();
    assert.equal(step1.code, Code.CONTENT);
    const id = step1.payload.toString();
    assert.match(id, /^[0-9a-f]{8}$/);
    const offset = Buffer.alloc(4);
    offset.writeUInt32LE(1000);
    const { data } = await fetchAll(peer, ['updates', id], offset);
    assert.ok(data.equals(IMAGE.subarray(1000)));

    peer.send(request(['updates'], payload(PID, 3, [1, 1, 31])));
    assert.equal((await peer.next()).type, MessageType.RST, 'no newer image: RST in step 1 too');
    peer.send(request(['updates', '0badc0de'], Buffer.alloc(4)));
    assert.equal((await peer.next()).code, Code.NOT_FOUND);
    peer.send(request(['updates', id], Buffer.alloc(3)));
    assert.equal((await peer.next()).code, Code.BAD_REQUEST);
    peer.send(request(['updates', '..'], Buffer.alloc(4)));
    assert.equal((await peer.next()).code, Code.NOT_FOUND);
  });

  it('accepts the payload on a POST from coap-client (-m post -e), block-wise', async () => {
    const hex = payload(PID, 3, [1, 1, 2], 0).toString('hex');
    const percent = hex.replace(/../g, (b) => `%${b}`);
    const out = join(dir, 'post.bin');
    await coapClient(['-m', 'post', '-b', '256', '-B', '20', '-e', percent, '-o', out, `${url}/updates`]);
    assert.ok((await readFile(out)).equals(IMAGE));
    const bad = await coapClient(['-m', 'post', '-B', '5', '-e', 'hello', `${url}/updates`]);
    assert.match(bad.stdout + bad.stderr, /4\.00/);
  });

  it('stops offering a revoked release: the next check gets the previous one, a two-step id stops working', async () => {
    peer.send(request(['updates'], payload(PID, 3, [1, 0, 0])));
    const id = (await peer.next()).payload.toString();
    const res = await server.api(`/api/v1/products/${PID}/releases/1.1.31/revoke`, { method: 'POST' });
    assert.ok(res.status < 300);
    const offset = Buffer.alloc(4);
    peer.send(request(['updates', id], offset));
    assert.equal((await peer.next()).code, Code.NOT_FOUND);
    peer.send(request(['updates'], payload(PID, 3, [1, 0, 0], 0)));
    const reply = await peer.next();
    assert.equal(reply.code, Code.CONTENT);
    assert.equal(reply.payload.length, 100, 'the 1.0.7 image');
  });
});
