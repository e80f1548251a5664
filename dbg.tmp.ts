import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { ADMIN_TOKEN, publishRelease, startTestServer } from './test/support/server.js';
const s = await startTestServer({ blobCacheBytes: 0 });
await publishRelease(s, 'big', '1.0.0', { 'firmware.bin': randomBytes(16 * 1024 * 1024) });
for (let round = 0; round < 3; round++) {
global.gc?.(); await new Promise(r=>setTimeout(r,200)); global.gc?.();
const m0 = process.memoryUsage();
const socks: Socket[] = [];
for (let i = 0; i < 40; i++) socks.push(await new Promise<Socket>((res) => { const so = connect({ port: s.httpPort, host: '127.0.0.1' }, () => so.write(`GET /api/v1/products/big/releases/1.0.0/artifacts/firmware.bin HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\n\r\n`)); so.once('data', () => { so.pause(); res(so); }); }));
await new Promise(r=>setTimeout(r,500));
const m1 = process.memoryUsage();
console.log('held', ((m1.arrayBuffers - m0.arrayBuffers)/1048576).toFixed(1), 'rss', ((m1.rss-m0.rss)/1048576).toFixed(1));
for (const so of socks) so.destroy();
await new Promise(r=>setTimeout(r,300)); global.gc?.();
console.log('after', ((process.memoryUsage().arrayBuffers - m0.arrayBuffers)/1048576).toFixed(1));
}
await s.close();
