import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../support/server.js';

describe('management API: devices', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer();
    for (let i = 0; i < 30; i++) {
      server.services.devices.checkIn({
        deviceId: `aa:bb:cc:dd:ee:${i.toString(16).padStart(2, '0')}`,
        product: i % 3 === 0 ? 'lamp' : 'plug',
        version: i % 2 ? '1.0.0' : '1.1.0',
        protocol: 'test',
        address: `10.0.0.${i}`,
      });
    }
  });
  after(() => server.close());

  it('lists with paging, filters and sorting', async () => {
    const page = (await (await server.api('/api/v1/devices?limit=10&offset=5&sort=id&order=asc')).json()) as {
      items: { id: string }[];
      total: number;
    };
    assert.equal(page.total, 30);
    assert.equal(page.items.length, 10);
    assert.equal(page.items[0]?.id, 'aa:bb:cc:dd:ee:05');
    const lamps = (await (await server.api('/api/v1/devices?product=lamp&version=1.1.0')).json()) as {
      total: number;
    };
    assert.equal(lamps.total, 5);
    const search = (await (await server.api('/api/v1/devices?search=10.0.0.2')).json()) as { total: number };
    assert.equal(search.total, 11);
  });

  it('finds a device by MAC in any spelling, with its history', async () => {
    const res = await server.api('/api/v1/devices/AA-BB-CC-DD-EE-01');
    assert.equal(res.status, 200);
    const device = (await res.json()) as { id: string; history: { kind: string }[] };
    assert.equal(device.id, 'aa:bb:cc:dd:ee:01');
    assert.equal(device.history[0]?.kind, 'check-in');
  });

  it('rejects bad query parameters with 400 and unknown devices with 404', async () => {
    for (const q of [
      'limit=0',
      'limit=abc',
      'offset=-1',
      'sort=password',
      'order=up',
      'seenAfter=yesterday',
    ]) {
      const res = await server.api(`/api/v1/devices?${q}`);
      assert.equal(res.status, 400, q);
      assert.equal(((await res.json()) as { code: string }).code, 'INVALID_INPUT');
    }
    const missing = await server.api('/api/v1/devices/nope');
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { code: string }).code, 'DEVICE_NOT_FOUND');
  });

  it('reports counts per product and version, and check-ins per hour', async () => {
    const stats = (await (await server.api('/api/v1/stats?hours=24')).json()) as {
      total: number;
      byProductVersion: { count: number }[];
      checkInsPerHour: { count: number }[];
    };
    assert.equal(stats.total, 30);
    assert.equal(stats.byProductVersion.length, 4);
    assert.equal(
      stats.checkInsPerHour.reduce((n, h) => n + h.count, 0),
      30,
    );
  });
});
