import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../support/server.js';

describe('OpenAPI document', () => {
  let server: TestServer;
  const routes: { method: string; url: string }[] = [];

  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it('documents every /api/v1 route, and nothing more', async () => {
    const doc = (await (await fetch(`${server.url}/api/v1/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    };
    assert.equal(doc.openapi, '3.1.0');
    const documented = new Set<string>();
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const method of Object.keys(ops))
        if (method !== 'parameters') documented.add(`${method.toUpperCase()} /api/v1${path}`);
    }
    for (const key of documented) {
      const [method, url] = key.split(' ') as [string, string];
      routes.push({ method, url });
      const fastifyUrl = url.replace(/\{(\w+)\}/g, ':$1');
      assert.ok(
        server.http.hasRoute({ method: method as 'GET', url: fastifyUrl }),
        `documented but not served: ${key}`,
      );
    }
    // printRoutes draws a tree, four columns per level: rebuild each full path from its ancestors.
    const stack: string[] = [];
    let checked = 0;
    for (const line of server.http.printRoutes({ commonPrefix: false }).split('\n')) {
      const m = /^([\s│├└─]*)(\S+) \(([^)]+)\)$/.exec(line);
      if (!m) continue;
      const depth = Math.floor((m[1] as string).length / 4);
      stack.length = depth;
      stack.push(m[2] as string);
      const url = stack.join('').replace(/:(\w+)/g, '{$1}');
      if (!url.startsWith('/api/v1/') || url.endsWith('openapi.json')) continue;
      for (const method of (m[3] as string).split(', ').filter((x) => x !== 'HEAD')) {
        assert.ok(documented.has(`${method} ${url}`), `served but not documented: ${method} ${url}`);
        checked++;
      }
    }
    assert.equal(checked, documented.size);
    assert.ok(routes.length > 10);
  });
});
