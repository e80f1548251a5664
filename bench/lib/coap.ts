import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { run, runOk, startProcess, waitFor, type Proc } from './proc.js';

/**
 * libcoap 4.3.1's coap-server cannot serve files (baselines.md §1): it runs with dynamic resources (`-d 10`) and
 * the image is PUT once, then GET returns it block-wise.
 */
export async function startLibcoapServer(port: number, image: string): Promise<{ proc: Proc; url: string }> {
  const proc = startProcess('coap-server', 'coap-server-notls', [
    '-A',
    '127.0.0.1',
    '-p',
    String(port),
    '-d',
    '10',
  ]);
  const url = `coap://127.0.0.1:${port}/fw.bin`;
  await waitFor('coap-server PUT', async () => {
    if (proc.exited()) throw new Error(`coap-server exited: ${proc.output()}`);
    const r = await run('coap-client-notls', ['-m', 'put', '-b', '1024', '-B', '10', '-f', image, url]);
    // coap-client exits 0 even on 4.xx/5.xx (baselines.md §3d): check what it printed.
    return r.code === 0 && !/\b[45]\.\d\d\b|timeout/i.test(r.stdout + r.stderr);
  });
  return { proc, url };
}

export const coapGetArgs = (url: string, out: string) => [
  '-m',
  'get',
  '-b',
  '1024',
  '-B',
  '80',
  '-o',
  out,
  url,
];

/**
 * Starts `clients` coap-client-notls downloads at once and waits for all; every output must equal `expected`
 * (the exit code says nothing, baselines.md §3d). `blocks`: the blocks of the byte-identical downloads;
 * blocks/s = those / wall time until the last ends.
 */
export async function coapDownloads(
  url: string,
  clients: number,
  expected: Buffer,
  scratch: string,
): Promise<{ wallMs: number; blocks: number; blocksPerSec: number; failures: number }> {
  const outs = Array.from({ length: clients }, (_, i) => join(scratch, `coap-out-${i}.bin`));
  await Promise.all(outs.map((o) => rm(o, { force: true })));
  const started = process.hrtime.bigint();
  await Promise.all(outs.map((o) => run('coap-client-notls', coapGetArgs(url, o))));
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  let failures = 0;
  for (const o of outs) {
    const got = await readFile(o).catch(() => Buffer.alloc(0));
    if (!got.equals(expected)) failures++;
  }
  await Promise.all(outs.map((o) => rm(o, { force: true })));
  const blocks = (clients - failures) * Math.ceil(expected.length / 1024);
  return { wallMs, blocks, blocksPerSec: blocks / (wallMs / 1000), failures };
}

/** One download, to check that a server serves the resource at all (the CoAP adapter may not exist yet). */
export async function coapProbe(url: string, expected: Buffer, scratch: string): Promise<string | undefined> {
  const out = join(scratch, 'coap-probe.bin');
  await rm(out, { force: true });
  const r = await runOk('coap-client-notls', ['-m', 'get', '-b', '1024', '-B', '20', '-o', out, url]);
  const got = await readFile(out).catch(() => Buffer.alloc(0));
  await rm(out, { force: true });
  if (got.equals(expected)) return undefined;
  return `GET ${url}: ${got.length} of ${expected.length} bytes; coap-client said: ${(r.stdout + r.stderr).trim().slice(0, 200)}`;
}
