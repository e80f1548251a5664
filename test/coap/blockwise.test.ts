import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { encodeBlock } from '../../src/transports/coap/block.js';
import { Code, MessageType, type CoapOption } from '../../src/transports/coap/message.js';
import { ContentFormat, decodeUint, getOption, Opt } from '../../src/transports/coap/options.js';
import { etagFromSha256, type CoapBody } from '../../src/transports/coap/resource.js';
import type { CoapServer } from '../../src/transports/coap/server.js';
import { coapClient, decode, encode, IMAGE, IMAGE_SHA256, rawExchange, startServer } from './helpers.js';

/** A Buffer-backed body that counts its reads, to prove one ranged read per block. */
function countingBody(data: Buffer): CoapBody & { reads: number } {
  return {
    size: data.length,
    etag: etagFromSha256(IMAGE_SHA256),
    contentFormat: ContentFormat.OCTET_STREAM,
    reads: 0,
    read(start, length) {
      this.reads++;
      return data.subarray(start, start + length);
    },
  };
}

const uriPath = (...segments: string[]) =>
  segments.map((s) => ({ number: Opt.URI_PATH, value: Buffer.from(s) }));

function blockGet(
  messageId: number,
  block2?: Buffer,
  extra: { number: number; value: Buffer }[] = [],
): Buffer {
  const options: CoapOption[] = [...uriPath('fw', 'image.bin')];
  if (block2 !== undefined) options.push({ number: Opt.BLOCK2, value: block2 });
  options.push(...extra);
  options.sort((a, b) => a.number - b.number);
  return encode({
    type: MessageType.CON,
    code: Code.GET,
    messageId,
    token: Buffer.from([messageId & 0xff]),
    options,
    payload: Buffer.alloc(0),
  });
}

describe('Block2 serving (RFC 7959) to libcoap coap-client', () => {
  let server: CoapServer;
  let port: number;
  let dir: string;
  const body = countingBody(IMAGE);

  before(async () => {
    ({ server, port } = await startServer());
    server.route('GET', '/fw/:file', (req) =>
      req.params.file === 'image.bin' ? { code: Code.CONTENT, body } : { code: Code.NOT_FOUND },
    );
    dir = await mkdtemp(join(tmpdir(), 'updraft-coap-'));
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  for (const size of [1024, 256, 64, 16]) {
    it(`downloads 1 MiB byte-identical with -b ${size}`, async () => {
      const out = join(dir, `image-${size}.bin`);
      const readsBefore = body.reads;
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
        `coap://127.0.0.1:${port}/fw/image.bin`,
      ]);
      const ms = performance.now() - started;
      const got = await readFile(out);
      assert.equal(got.length, IMAGE.length);
      assert.ok(got.equals(IMAGE), 'downloaded bytes differ');
      const blocks = IMAGE.length / size;
      // One ranged read per block; a duplicate or retransmission may add a few.
      assert.ok(body.reads - readsBefore >= blocks && body.reads - readsBefore < blocks * 1.01 + 4);
      console.log(
        `# -b ${size}: ${blocks} blocks in ${ms.toFixed(0)} ms (${Math.round((blocks / ms) * 1000)} blocks/s)`,
      );
    });
  }

  it('answers a first request without Block2 with 1024-byte block 0, M=1, Size2 and the 8-byte ETag', async () => {
    const [reply] = await rawExchange(port, [blockGet(1)]);
    assert.ok(reply);
    const m = decode(reply);
    assert.equal(m.type, MessageType.ACK);
    assert.equal(m.code, Code.CONTENT);
    assert.equal(getOption(m.options, Opt.BLOCK2)?.toString('hex'), '0e');
    assert.equal(decodeUint(getOption(m.options, Opt.SIZE2) ?? Buffer.alloc(0)), IMAGE.length);
    assert.deepEqual(getOption(m.options, Opt.ETAG), IMAGE_SHA256.subarray(0, 8));
    assert.equal(
      decodeUint(getOption(m.options, Opt.CONTENT_FORMAT) ?? Buffer.alloc(1)),
      ContentFormat.OCTET_STREAM,
    );
    assert.deepEqual(m.payload, IMAGE.subarray(0, 1024));
  });

  it('serves the last block with M=0, the ETag again, and Size2 when the request carries Size2', async () => {
    const lastNum = IMAGE.length / 64 - 1;
    const [reply] = await rawExchange(port, [
      blockGet(2, encodeBlock(lastNum, false, 2), [{ number: Opt.SIZE2, value: Buffer.alloc(0) }]),
    ]);
    assert.ok(reply);
    const m = decode(reply);
    assert.deepEqual(getOption(m.options, Opt.BLOCK2), encodeBlock(lastNum, false, 2));
    assert.equal(decodeUint(getOption(m.options, Opt.SIZE2) ?? Buffer.alloc(0)), IMAGE.length);
    assert.deepEqual(getOption(m.options, Opt.ETAG), IMAGE_SHA256.subarray(0, 8));
    assert.deepEqual(m.payload, IMAGE.subarray(IMAGE.length - 64));
  });

  it('answers a block past the end, and a huge NUM, with 4.02 Bad Option', async () => {
    const replies = await rawExchange(port, [
      blockGet(3, encodeBlock(IMAGE.length / 1024, false, 6)),
      blockGet(4, encodeBlock(0xfffff, false, 6)),
    ]);
    assert.deepEqual(
      replies.map((r) => decode(r).code),
      [Code.BAD_OPTION, Code.BAD_OPTION],
    );
  });

  it('answers SZX 7 with 4.00 (RFC 7959 §2.2)', async () => {
    const [reply] = await rawExchange(port, [blockGet(5, Buffer.from([0x07]))]);
    assert.ok(reply);
    assert.equal(decode(reply).code, Code.BAD_REQUEST);
  });
});

describe('Block2 with maxBlockSize', () => {
  it('answers a larger requested size with the configured smaller one, at the same byte offset', async () => {
    const { server, port } = await startServer({ maxBlockSize: 256 });
    try {
      server.route('GET', '/fw/image.bin', () => ({ code: Code.CONTENT, body: countingBody(IMAGE) }));
      // Block 3 of 1024 bytes starts at 3072 = block 12 of 256 bytes (RFC 7959 §2.4).
      const [reply] = await rawExchange(port, [blockGet(6, encodeBlock(3, false, 6))]);
      assert.ok(reply);
      const m = decode(reply);
      assert.deepEqual(getOption(m.options, Opt.BLOCK2), encodeBlock(12, true, 4));
      assert.deepEqual(m.payload, IMAGE.subarray(3072, 3072 + 256));
      // A smaller size than the maximum is honoured as asked (Contiki needs that, device-protocols.md §7).
      const [small] = await rawExchange(port, [blockGet(7, encodeBlock(5, false, 2))]);
      assert.ok(small);
      assert.deepEqual(getOption(decode(small).options, Opt.BLOCK2), encodeBlock(5, true, 2));
    } finally {
      await server.close();
    }
  });
});
