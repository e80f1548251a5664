import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/app/logger.js';

/** A destination that keeps what is written, optionally claiming to be a terminal. */
function sink(isTTY: boolean) {
  const lines: string[] = [];
  const stream = Object.assign(
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    }),
    { isTTY },
  );
  return { stream, lines };
}

describe('--log-format', () => {
  it('json: one JSON object per line', () => {
    const out = sink(true);
    createLogger('info', 'json', out.stream).info({ port: 8080 }, 'HTTP listening');
    const entry = JSON.parse(out.lines[0] ?? '') as Record<string, unknown>;
    assert.equal(entry.msg, 'HTTP listening');
    assert.equal(entry.port, 8080);
    assert.equal(entry.service, 'updraft');
  });

  it('pretty: readable lines (pino-pretty), not JSON', () => {
    const out = sink(false);
    createLogger('info', 'pretty', out.stream).warn({ files: 2 }, 'removed incomplete uploads');
    assert.match(out.lines[0] ?? '', /^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: removed incomplete uploads$/);
    assert.ok(out.lines.some((l) => /^\s+files: 2$/.test(l)));
    assert.throws(() => JSON.parse(out.lines[0] ?? ''));
  });

  it('auto: pretty on a terminal, JSON otherwise', () => {
    const terminal = sink(true);
    createLogger('info', 'auto', terminal.stream).info('hello');
    assert.match(terminal.lines[0] ?? '', /INFO.*hello/);
    const pipe = sink(false);
    createLogger('info', 'auto', pipe.stream).info('hello');
    assert.equal((JSON.parse(pipe.lines[0] ?? '') as { msg: string }).msg, 'hello');
  });
});
