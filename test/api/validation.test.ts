import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../support/server.js';

/** Wrong JSON types and malformed bodies are 400s naming the field (issue 13, defect 11), and change nothing. */
describe('request validation from the route schemas', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  const post = (path: string, body: string, type = 'application/json') =>
    server.api(path, { method: 'POST', headers: { 'content-type': type }, body });

  async function expect400(res: Response, message: string): Promise<void> {
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), { code: 'INVALID_INPUT', message });
  }

  it('POST /tokens: each wrong type is a 400 that names the field, and no token is created', async () => {
    await expect400(
      await post('/api/v1/tokens', '{"kind":"admin","token":123}'),
      'body.token must be string',
    );
    await expect400(await post('/api/v1/tokens', '{}'), 'body.kind is required');
    await expect400(
      await post('/api/v1/tokens', '{"kind":"device","device":["x"]}'),
      'body.device must be string or null',
    );
    await expect400(
      await post('/api/v1/tokens', '{"kind":"device","product":{"x":1}}'),
      'body.product must be string or null',
    );
    await expect400(
      await post('/api/v1/tokens', '{"kind":"root"}'),
      'body.kind must be one of "admin", "device"',
    );
    await expect400(
      await post('/api/v1/tokens', '{"kind":"admin","colour":1}'),
      'body.colour is not a known field',
    );
    await expect400(await post('/api/v1/tokens', '[]'), 'body must be object');
    const list = (await (await server.api('/api/v1/tokens')).json()) as { items: unknown[] };
    assert.deepEqual(list.items, []);
  });

  it('bodies are not coerced: a number sent as a string is refused', async () => {
    await expect400(
      await post('/api/v1/products', '{"name":"lamp","settings":"{}"}'),
      'body.settings must be object',
    );
    await expect400(await post('/api/v1/products', '{"name":5}'), 'body.name must be string');
    assert.equal((await server.api('/api/v1/products/lamp')).status, 404);
  });

  it('query strings are converted, range-checked and named', async () => {
    await expect400(await server.api('/api/v1/devices?limit=0'), 'querystring.limit must be >= 1');
    await expect400(await server.api('/api/v1/devices?limit=abc'), 'querystring.limit must be integer');
    await expect400(await server.api('/api/v1/stats?hours=100000'), 'querystring.hours must be <= 2160');
    assert.equal((await server.api('/api/v1/devices?limit=5')).status, 200);
  });

  it('multipart/form-data without a boundary is a 400 on the API and on the RIOT seed path', async () => {
    for (const path of ['/api/v1/products/lamp/releases', '/publish']) {
      await expect400(
        await post(path, 'version=1', 'multipart/form-data'),
        'multipart/form-data needs a boundary parameter (RFC 7578 §4.1)',
      );
    }
  });
});
