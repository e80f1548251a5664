import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeBlock, encodeBlock, szxOf } from '../../src/transports/coap/block.js';
import { parse, serialize } from '../../src/transports/coap/codec.js';
import { Code, MessageType, type CoapMessage } from '../../src/transports/coap/message.js';
import { decodeUint, encodeUint, findBadCriticalOption, Opt } from '../../src/transports/coap/options.js';

const message = (overrides: Partial<CoapMessage> = {}): CoapMessage => ({
  type: MessageType.CON,
  code: Code.GET,
  messageId: 0x1234,
  token: Buffer.from('a1b2', 'hex'),
  options: [],
  payload: Buffer.alloc(0),
  ...overrides,
});

describe('codec', () => {
  it('round-trips options with 4-bit, 8-bit and 16-bit deltas and lengths', () => {
    const m = message({
      options: [
        { number: Opt.URI_PATH, value: Buffer.from('fw') },
        { number: Opt.URI_PATH, value: Buffer.alloc(20, 0x61) },
        { number: Opt.BLOCK2, value: Buffer.from([0x16]) },
        { number: Opt.SIZE1, value: Buffer.alloc(300, 1) },
        { number: 2000, value: Buffer.alloc(0) },
      ],
      payload: Buffer.from('hello'),
    });
    const parsed = parse(serialize(m));
    assert.ok(parsed.ok);
    assert.equal(parsed.message.messageId, 0x1234);
    assert.deepEqual(parsed.message.token, m.token);
    assert.deepEqual(
      parsed.message.options.map((o) => [o.number, o.value.toString('hex')]),
      m.options.map((o) => [o.number, o.value.toString('hex')]),
    );
    assert.equal(parsed.message.payload.toString(), 'hello');
  });

  it('encodes the RFC 7252 header exactly', () => {
    const bytes = serialize(message({ type: MessageType.ACK, code: Code.CONTENT, token: Buffer.alloc(0) }));
    assert.equal(bytes.toString('hex'), '60451234');
  });

  const errors: Array<[string, string, string]> = [
    ['truncated header', '4001', 'truncated-header'],
    ['version 2', '80011234', 'bad-version'],
    ['token length 9', '49011234' + '00'.repeat(9), 'bad-token-length'],
    ['token length 15', '4f011234' + '00'.repeat(15), 'bad-token-length'],
    ['option delta nibble 15', '40011234f1', 'bad-option'],
    ['option length nibble 15', '400112341f', 'bad-option'],
    ['payload marker without payload', '40011234ff', 'empty-payload'],
    ['option longer than the datagram', '40011234b5616263', 'truncated'],
    ['Empty message with a token', '41001234aa', 'bad-empty-message'],
  ];
  for (const [name, hex, kind] of errors) {
    it(`reports ${name} as ${kind}`, () => {
      const parsed = parse(Buffer.from(hex, 'hex'));
      assert.equal(parsed.ok, false);
      if (!parsed.ok) assert.equal(parsed.kind, kind);
    });
  }

  it('keeps the header of a CON with a format error so it can be reset, but not of version 2', () => {
    const bad = parse(Buffer.from('40011234ff', 'hex'));
    assert.ok(!bad.ok && bad.header?.messageId === 0x1234 && bad.header.type === MessageType.CON);
    const v2 = parse(Buffer.from('80011234', 'hex'));
    assert.ok(!v2.ok && v2.header === undefined);
  });
});

describe('options', () => {
  it('encodes uints minimally', () => {
    assert.equal(encodeUint(0).length, 0);
    assert.equal(encodeUint(255).toString('hex'), 'ff');
    assert.equal(encodeUint(256).toString('hex'), '0100');
    assert.equal(encodeUint(0x1000000).toString('hex'), '01000000');
    assert.equal(decodeUint(Buffer.from('000102', 'hex')), 258);
  });

  it('flags unknown critical options and over-long critical ones, not elective ones', () => {
    const opt = (number: number, length = 1) => ({ number, value: Buffer.alloc(length) });
    assert.equal(findBadCriticalOption([opt(Opt.URI_PATH), opt(9)])?.number, 9);
    assert.equal(findBadCriticalOption([opt(Opt.BLOCK2, 4)])?.number, Opt.BLOCK2);
    assert.equal(findBadCriticalOption([opt(Opt.URI_PATH), opt(10), opt(Opt.SIZE2, 9)]), undefined);
    assert.equal(findBadCriticalOption([opt(Opt.URI_HOST), opt(Opt.URI_HOST)])?.number, Opt.URI_HOST);
  });
});

describe('block option', () => {
  it('encodes and decodes NUM, M and SZX (RFC 7959 §2.2)', () => {
    assert.equal(encodeBlock(0, false, 0).length, 0);
    assert.equal(encodeBlock(1, true, 6).toString('hex'), '1e');
    assert.equal(encodeBlock(0xfffff, false, 2).toString('hex'), 'fffff2');
    assert.deepEqual(decodeBlock(Buffer.from('fffff2', 'hex')), { num: 0xfffff, more: false, szx: 2 });
    assert.deepEqual(decodeBlock(Buffer.alloc(0)), { num: 0, more: false, szx: 0 });
    assert.equal(decodeBlock(Buffer.from([0x07])), 'reserved-szx');
    assert.equal(decodeBlock(Buffer.alloc(4)), undefined);
    assert.equal(szxOf(1024), 6);
    assert.throws(() => szxOf(2048));
  });
});
