/** The real server with CoAP on a free UDP port, and libcoap's client against it. */
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestServer, type TestServer } from '../support/server.js';

export { coapClient, COAP_CLIENT, RawPeer, decode, encode } from '../coap/helpers.js';

export async function startCoapTestServer(
  overrides: Parameters<typeof startTestServer>[0] = {},
): Promise<{ server: TestServer; url: string; port: number }> {
  const server = await startTestServer({ coapPort: 0, ...overrides });
  const port = server.coap?.port;
  if (port === undefined) throw new Error('CoAP did not start');
  return { server, url: `coap://127.0.0.1:${port}`, port };
}

/** Retries until `check` returns a value (catalog events reach the CoAP side asynchronously). */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(50);
  }
}
