import { startTestServer, ADMIN_TOKEN } from './test/support/server.js';
import { rawRequest } from './test/support/raw-http.js';
const s = await startTestServer({ logLevel: 'warn' } as never);
await s.api('/api/v1/products', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'late' }) });
const b = 'xBOUNDARYx';
for (const path of ['/api/v1/products/late/releases', '/publish']) {
  const body =
    `--${b}\r\nContent-Disposition: form-data; name="version"\r\n\r\n9.9.9\r\n` +
    `--${b}\r\nContent-Disposition: form-data; name="publish_id"\r\n\r\nhang\r\n` +
    `--${b}\r\nContent-Disposition: form-data; name="firmware.bin"; filename="f"\r\n` +
    `Content-Type: application/octet-stream\r\n\r\n${'A'.repeat(4000)}`;
  const req = `POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\nContent-Type: multipart/form-data; boundary=${b}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  const r = await rawRequest(s.httpPort, req).catch((e) => e);
  console.log(path, r.statusLine ?? r.message, r.body?.toString());
}
await s.close();
