import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { routesOf, type RegisteredRoute } from '../../src/transports/http/route-registry.js';
import { ADMIN_TOKEN, publishRelease, startTestServer, type TestServer } from '../support/server.js';

/**
 * Every route the server registers, fed wrong types, missing fields and garbage: the answer is never a 5xx, and
 * every 4xx says what was wrong. The management API's routes are taken with their schemas, so each declared
 * field gets each wrong type; device paths get garbage in every header, parameter and query field they read.
 */
type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
interface Schema {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  anyOf?: Schema[];
  const?: Json;
}
interface Sent {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer | string;
}

const agent = new Agent({ keepAlive: true, maxSockets: 8 });
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

/** Sends exactly this path (fetch would normalise `/../`) and reads the whole answer. */
function send(port: number, r: Sent): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method: r.method, path: r.path, headers: r.headers, agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            type: String(res.headers['content-type'] ?? ''),
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(r.body);
  });
}

/** Values of every JSON type and a few hostile strings: for any field, most are the wrong type. */
const WRONG: Json[] = [
  123,
  -1,
  1.5,
  1e300,
  true,
  null,
  [],
  ['x'],
  [1, 2],
  {},
  { x: 1 },
  '',
  ' ',
  '\u0000',
  '../../etc/passwd',
  'x'.repeat(5000),
  '💥',
];
/** Query-string and path values: every one arrives as text. */
const WRONG_TEXT = [
  'abc',
  '-1',
  '0',
  '1.5',
  '1e400',
  '99999999999999999999999',
  '',
  '%00',
  '%ff',
  '%2e%2e%2f%2e%2e',
  '..',
  'x'.repeat(3000),
  '%F0%9F%92%A5',
  'true',
  'null',
];

/** A plausible value for a schema, to fill the fields a variant does not break. */
function sample(schema: Schema | undefined): Json {
  if (!schema) return 'x';
  if (schema.const !== undefined) return schema.const;
  if (schema.anyOf?.length) return sample(schema.anyOf[0]);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  if (type === 'integer' || type === 'number') return 1;
  if (type === 'boolean') return true;
  if (type === 'array') return [];
  if (type === 'null') return null;
  if (type === 'object') {
    const out: Record<string, Json> = {};
    for (const name of schema.required ?? []) out[name] = sample(schema.properties?.[name]);
    return out;
  }
  return 'sweep-value';
}

const json = (value: unknown) => ({
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(value),
});

/** Request bodies for a route: each field of its schema given each wrong value, then whole-body garbage. */
function bodies(schema: Schema | undefined): { headers: Record<string, string>; body?: string | Buffer }[] {
  const out: { headers: Record<string, string>; body?: string | Buffer }[] = [];
  if (schema?.properties) {
    const base = sample(schema) as Record<string, Json>;
    for (const name of Object.keys(schema.properties)) {
      for (const value of WRONG) out.push(json({ ...base, [name]: value }));
      const { [name]: _missing, ...without } = base;
      out.push(json(without));
    }
    out.push(json({ ...base, unknownField: 1 }));
  }
  for (const value of [{}, [], null, 'text', 42, true]) out.push(json(value));
  out.push({ headers: { 'content-type': 'application/json' }, body: '{"unterminated' });
  out.push({ headers: { 'content-type': 'application/json' }, body: '' });
  out.push({ headers: { 'content-type': 'application/json' }, body: '['.repeat(5000) + ']'.repeat(5000) });
  out.push({
    headers: { 'content-type': 'application/json' },
    body: `{"a":"${'x'.repeat(2 * 1024 * 1024)}"}`,
  });
  out.push({ headers: { 'content-type': 'text/plain' }, body: 'hello' });
  out.push({ headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1&b=%zz&&=' });
  out.push({ headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from([0, 255, 1]) });
  out.push({ headers: { 'content-type': 'multipart/form-data' }, body: 'no boundary' });
  out.push({
    headers: { 'content-type': 'multipart/form-data; boundary=XX' },
    body: '--XX\r\nContent-Disposition: form-data; name="version"\r\n\r\n1.0\r\n--XX\r\ngarbage\r\n--XX--\r\n',
  });
  out.push({ headers: { 'content-type': 'multipart/form-data; boundary=XX' }, body: '--XX--\r\n' });
  out.push({ headers: { 'content-type': 'image/png' }, body: 'not a png' });
  return out;
}

const methodsOf = (route: RegisteredRoute) =>
  (Array.isArray(route.method) ? route.method : [route.method]).filter((m) => m !== 'HEAD');

/** Fills `:param` and `*` with the value given for that name, or `fallback`. */
function fill(url: string, values: Record<string, string>, fallback: string): string {
  return url
    .replace(/:(\w+)/g, (_m, name: string) => values[name] ?? fallback)
    .replace(/\*$/, values['*'] ?? fallback);
}

describe('bad-input sweep over every route', () => {
  let server: TestServer;
  const failures: string[] = [];
  let requests = 0;
  const existing: Record<string, string> = {
    product: 'sweep',
    version: '1.0.0',
    name: 'firmware.bin',
    id: 'aa:bb:cc:dd:ee:ff',
    prefix: 'sweep',
    '*': 'firmware.bin',
  };

  async function check(r: Sent, expectMessage: boolean): Promise<void> {
    requests++;
    const res = await send(server.httpPort, r);
    const what = `${r.method} ${r.path.slice(0, 120)} ${JSON.stringify(r.headers).slice(0, 160)} ${String(r.body ?? '').slice(0, 80)}`;
    if (res.status >= 500) failures.push(`${res.status} for ${what}: ${res.body.slice(0, 200)}`);
    else if (res.status >= 400 && expectMessage && r.method !== 'HEAD') {
      let body: { code?: unknown; message?: unknown } = {};
      try {
        body = JSON.parse(res.body) as typeof body;
      } catch {
        // fall through to the failure below
      }
      if (typeof body.code !== 'string' || typeof body.message !== 'string' || !body.message)
        failures.push(`${res.status} without { code, message } for ${what}: ${res.body.slice(0, 200)}`);
    } else if (res.status >= 400 && r.method !== 'HEAD' && res.body.trim() === '' && res.status !== 404) {
      failures.push(`${res.status} with an empty body for ${what}`);
    }
  }

  before(async () => {
    server = await startTestServer();
    await publishRelease(
      server,
      'sweep',
      '1.0.0',
      { 'firmware.bin': Buffer.from([0xe9, 1, 2, 3]) },
      { deviceFamily: 'esp8266' },
    );
    await publishRelease(
      server,
      'poll',
      '1.0.0',
      { 'firmware.bin': Buffer.from('poll') },
      { deviceFamily: 'simple-polling' },
    );
    await publishRelease(server, 'at', '1.0.0', { 'ota.bin': Buffer.from('at') }, { deviceFamily: 'esp-at' });
    server.services.devices.checkIn({
      deviceId: 'aa:bb:cc:dd:ee:ff',
      product: 'sweep',
      version: '0.9.0',
      protocol: 'test',
    });
  });
  after(async () => {
    agent.destroy();
    await server.close();
  });

  it('management API: every declared field gets every wrong type; params and queries get garbage', async () => {
    const routes = routesOf(server.http).filter((r) => r.url.startsWith('/api/v1/'));
    assert.ok(routes.length >= 16);
    // DELETEs last, so the other routes still find what they name.
    const ordered = [...routes].sort(
      (a, b) => Number(methodsOf(a).includes('DELETE')) - Number(methodsOf(b).includes('DELETE')),
    );
    for (const route of ordered) {
      const schema = (route.schema ?? {}) as { body?: Schema; querystring?: Schema; params?: Schema };
      for (const method of methodsOf(route)) {
        const path = fill(route.url, existing, 'x');
        // No token, a wrong one: 401 with a message, whatever else is wrong.
        await check({ method, path, headers: {} }, !route.url.endsWith('openapi.json'));
        await check({ method, path, headers: { authorization: 'Bearer wrong' } }, true);
        await check({ method, path, headers: { authorization: 'Basic !!!' } }, true);
        for (const name of [...route.url.matchAll(/:(\w+)/g)].map((m) => m[1] as string)) {
          for (const value of WRONG_TEXT) {
            const garbage = fill(route.url, { ...existing, [name]: value }, 'x');
            if (method !== 'DELETE' || name !== 'product')
              await check({ method, path: garbage, headers: admin }, true);
          }
        }
        for (const name of Object.keys(schema.querystring?.properties ?? {})) {
          for (const value of WRONG_TEXT) {
            const q = `${name}=${value}`;
            await check({ method, path: `${path}?${q}`, headers: admin }, true);
            await check({ method, path: `${path}?${q}&${q}`, headers: admin }, true);
          }
        }
        await check({ method, path: `${path}?%zz=%zz&&&=`, headers: admin }, true);
        if (method === 'GET' || method === 'DELETE') continue;
        for (const b of bodies(schema.body)) {
          await check({ method, path, headers: { ...admin, ...b.headers }, body: b.body }, true);
        }
      }
    }
    assert.ok(requests > 1000, `${requests} requests`);
    assert.deepEqual(failures, []);
  });

  it('device paths: garbage in every header, parameter and query field a protocol reads', async () => {
    failures.length = 0;
    const before = requests;
    const routes = routesOf(server.http).filter((r) => !r.url.startsWith('/api/v1'));
    assert.ok(routes.length >= 8, `${routes.length} device routes`);
    const headerSets: Record<string, string>[] = [
      {},
      {
        'user-agent': 'ESP8266-http-Update',
        'x-ESP8266-STA-MAC': 'zz:zz',
        'x-ESP8266-version': '\u00ff'.repeat(300),
      },
      {
        'user-agent': 'ESP8266-http-Update',
        'x-ESP8266-STA-MAC': 'AA:BB:CC:DD:EE:FF',
        'x-ESP8266-free-space': 'abc',
        'x-ESP8266-sketch-size': '-5',
        'x-ESP8266-sketch-md5': 'nothex',
        'x-ESP8266-mode': 'format-c',
        'x-ESP8266-version': '',
      },
      {
        'user-agent': 'ESP32-http-Update',
        'x-ESP32-STA-MAC': '24:6F:28:00:00:01',
        'x-ESP32-sketch-sha256': 'XYZ',
        'x-ESP32-free-space': '1e400',
      },
      { _br_fwv_: '../../x', _br_mac_: 'not-a-mac' },
      { _br_fwv_: 'v'.repeat(4000), _br_mac_: 'AA:BB:CC:DD:EE:01' },
      { 'x-SHA256': 'zz', 'user-agent': '' },
      { range: 'bytes=abc' },
      { range: 'bytes=999999999-' },
      { range: 'bytes=5-1' },
      { range: 'bytes=0-1,2-3,4-5,6-7' },
      { 'if-none-match': '"' },
      { 'if-range': 'garbage', range: 'bytes=0-1' },
      { authorization: 'Basic !!!' },
      { authorization: `Basic ${Buffer.from('no-colon').toString('base64')}` },
      { authorization: 'Bearer' },
      admin,
    ];
    const queries = [
      '',
      '?action=download&filename=../../etc/passwd',
      '?action=nope&version=%00',
      '?version=1e400&is_format_simple=2',
      '?filename=%ff&action=',
      '?version=1.0.0&version=2.0.0',
    ];
    const paths = [
      'firmware.bin',
      'sweep',
      '../../etc/passwd',
      '%2e%2e%2f%2e%2e%2fetc',
      'a'.repeat(2000),
      '%00',
      'ota.bin',
      '',
    ];
    for (const route of routes) {
      for (const method of [...methodsOf(route), 'HEAD'].filter(
        (m) => m !== 'HEAD' || methodsOf(route).includes('GET'),
      )) {
        for (const value of paths) {
          for (const query of queries) {
            await check(
              {
                method,
                path: fill(route.url, { prefix: 'at', product: 'sweep' }, value) + query,
                headers: {},
              },
              false,
            );
          }
        }
        for (const headers of headerSets) {
          await check({ method, path: fill(route.url, existing, 'sweep'), headers }, false);
          await check({ method, path: fill(route.url, { prefix: 'at' }, 'poll'), headers }, false);
        }
        if (method === 'POST') {
          for (const b of bodies(undefined)) {
            await check(
              { method, path: fill(route.url, existing, 'x'), headers: b.headers, body: b.body },
              false,
            );
            await check(
              {
                method,
                path: fill(route.url, existing, 'x'),
                headers: { ...admin, ...b.headers },
                body: b.body,
              },
              false,
            );
          }
          for (const form of [
            'publish_id=&urls=',
            'publish_id=../x&urls=%00',
            `urls=${'x,'.repeat(5000)}`,
            'publish_id=x&urls=[::1]:99999',
          ]) {
            const headers = { ...admin, 'content-type': 'application/x-www-form-urlencoded' };
            await check({ method, path: fill(route.url, existing, 'x'), headers, body: form }, false);
          }
        }
      }
    }
    assert.ok(requests - before > 500, `${requests - before} requests`);
    assert.deepEqual(failures, []);
  });
});
