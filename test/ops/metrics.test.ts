import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { coapClient, startCoapTestServer } from '../coap-devices/helpers.js';
import { freePort, publishRelease, startTestServer, tempDir, type TestServer } from '../support/server.js';
import { httpRequest, rawRequest } from '../support/raw-http.js';
import { espImage } from '../devices/helpers.js';

const METRICS_TOKEN = 'scrape-me-0123456789';

/** The value of one series in the text exposition, 0 when absent. */
function value(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

/** ESP8266httpUpdate's request as captured from the core (device-protocols.md §1.1). */
function esp8266(port: number, version: string) {
  return rawRequest(port, esp8266Lines(port, version));
}

function esp8266Lines(port: number, version: string) {
  return httpRequest([
    'GET /sensor HTTP/1.0',
    `Host: 127.0.0.1:${port}`,
    'User-Agent: ESP8266-http-Update',
    'Connection: close',
    'x-ESP8266-Chip-ID: 15602487',
    'x-ESP8266-STA-MAC: DE:BA:7A:B1:E0:42',
    'x-ESP8266-AP-MAC: DE:BA:7A:B1:E0:42',
    'x-ESP8266-free-space: 4194304',
    'x-ESP8266-sketch-size: 400000',
    'x-ESP8266-sketch-md5: 00112233445566778899aabbccddeeff',
    'x-ESP8266-chip-size: 4194304',
    'x-ESP8266-sdk-version: 2.5.0',
    'x-ESP8266-mode: sketch',
    `x-ESP8266-version: ${version}`,
    'Content-Length: 0',
  ]);
}

describe('GET /metrics', () => {
  let server: TestServer;
  const image = espImage(150_000);
  const scrape = async (token = METRICS_TOKEN) => {
    const res = await fetch(`${server.url}/metrics`, { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return res.text();
  };

  before(async () => {
    server = await startTestServer({ metricsToken: METRICS_TOKEN });
    await publishRelease(server, 'sensor', '1.1.0', { 'firmware.bin': image });
  });
  after(() => server.close());

  it('needs the metrics token or an admin token', async () => {
    assert.equal((await fetch(`${server.url}/metrics`)).status, 401);
    const wrong = await fetch(`${server.url}/metrics`, { headers: { Authorization: 'Bearer nope' } });
    assert.equal(wrong.status, 401);
    assert.match(await scrape(), /updraft_requests_total/);
    assert.match(await (await server.api('/metrics')).text(), /nodejs_eventloop_lag_seconds/);
  });

  it('passes promtool check metrics', async () => {
    const text = await scrape();
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.equal(check.status, 0, `promtool: ${check.stdout}${check.stderr}`);
    for (const name of [
      'process_cpu_seconds_total',
      'nodejs_eventloop_lag_seconds',
      'updraft_write_behind_queue_depth',
      'updraft_write_behind_flush_duration_seconds_bucket',
      'updraft_write_behind_dropped_total',
    ]) {
      assert.ok(text.includes(`\n${name}`), `${name} missing`);
    }
  });

  it('counts a real ESP8266 check-in and download, bytes, status classes and the device gauge', async () => {
    const before = await scrape();
    const port = server.httpPort;
    const update = await esp8266(port, '1.0.0');
    assert.equal(update.status, 200);
    assert.equal(update.body.length, image.length);
    const current = await esp8266(port, '1.1.0');
    assert.equal(current.status, 304);
    await server.services.devices.flush();
    // download-completed is counted when the server's write ends, which can trail the client's last byte.
    let after = await scrape();
    for (let i = 0; i < 50 && !after.includes('outcome="completed"'); i++) {
      await new Promise((r) => setTimeout(r, 20));
      after = await scrape();
    }
    const delta = (series: string) => value(after, series) - value(before, series);
    assert.equal(delta('updraft_check_ins_total{protocol="esp8266-httpupdate",product="sensor"}'), 2);
    assert.equal(
      delta('updraft_downloads_total{family="esp-http-update",product="sensor",outcome="started"}'),
      1,
    );
    assert.equal(
      delta('updraft_downloads_total{family="esp-http-update",product="sensor",outcome="completed"}'),
      1,
    );
    assert.equal(
      delta('updraft_served_bytes_total{family="esp-http-update",product="sensor"}'),
      image.length,
    );
    assert.equal(
      delta('updraft_requests_total{transport="http",family="esp-http-update",code_class="2xx"}'),
      1,
    );
    assert.equal(
      delta('updraft_requests_total{transport="http",family="esp-http-update",code_class="3xx"}'),
      1,
    );
    assert.ok(delta('updraft_blob_cache_misses_total') + delta('updraft_blob_cache_hits_total') >= 1);
    // The device first reported 1.0.0, then 1.1.0 (flushed together): one device, on 1.1.0.
    assert.equal(value(after, 'updraft_devices{product="sensor",version="1.1.0"}'), 1);
    assert.equal(value(after, 'updraft_devices{product="sensor",version="1.0.0"}'), 0);
    assert.ok(value(after, 'updraft_write_behind_flush_duration_seconds_count') >= 1);
    const bad = await server.api('/api/v1/products/nope');
    assert.equal(bad.status, 404);
    const later = await scrape();
    assert.equal(
      value(later, 'updraft_requests_total{transport="http",family="api",code_class="4xx"}') -
        value(after, 'updraft_requests_total{transport="http",family="api",code_class="4xx"}'),
      1,
    );
    // Forgetting the device takes it out of the gauge.
    assert.equal((await server.api('/api/v1/devices/de:ba:7a:b1:e0:42', { method: 'DELETE' })).status, 204);
    assert.equal(value(await scrape(), 'updraft_devices{product="sensor",version="1.1.0"}'), 0);
  });

  it('counts blob cache hits apart from misses, and a download the device abandons as aborted', async () => {
    // More than the socket buffers hold while the device does not read (Linux grows a loopback send buffer to
    // 4 MiB): the server is still sending when the device goes away. The free space sent says it fits.
    const big = espImage(12 * 1024 * 1024, 2);
    const initial = await scrape();
    await publishRelease(server, 'bigsensor', '2.0.0', { 'firmware.bin': big });
    const port = server.httpPort;
    // Another device (its own MAC) of another product: the sensor's series stay as the tests around expect.
    const lines = esp8266Lines(port, '1.0.0')
      .replace('GET /sensor', 'GET /bigsensor')
      .replaceAll('DE:BA:7A:B1:E0:42', 'DE:BA:7A:B1:E0:43')
      .replace('x-ESP8266-free-space: 4194304', 'x-ESP8266-free-space: 16777216');
    const family = 'family="esp-http-update",product="bigsensor"';
    const first = await scrape();
    // The device reads the first bytes, stops reading, and goes away (power cut, reset).
    await new Promise<void>((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1' }, () => socket.write(lines));
      socket.once('data', (chunk: Buffer) => {
        socket.pause();
        if (!chunk.toString('latin1').startsWith('HTTP/1.1 200'))
          reject(new Error(chunk.toString('latin1', 0, 200)));
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 300);
      });
      socket.on('error', reject);
    });
    let second = await scrape();
    for (let i = 0; i < 50 && !second.includes(`${family},outcome="aborted"`); i++) {
      await new Promise((r) => setTimeout(r, 20));
      second = await scrape();
    }
    const delta = (a: string, b: string, series: string) => value(b, series) - value(a, series);
    assert.equal(delta(first, second, `updraft_downloads_total{${family},outcome="started"}`), 1);
    assert.equal(delta(first, second, `updraft_downloads_total{${family},outcome="aborted"}`), 1);
    assert.equal(delta(first, second, `updraft_downloads_total{${family},outcome="completed"}`), 0);
    assert.equal(
      delta(first, second, `updraft_served_bytes_total{${family}}`),
      0,
      'bytes of completed downloads',
    );

    // The whole image again: read from the cache the first attempt filled, not the blob store.
    const again = await rawRequest(port, lines);
    assert.equal(again.status, 200);
    assert.ok(again.body.equals(big));
    const third = await scrape();
    assert.ok(delta(second, third, 'updraft_blob_cache_hits_total') >= 1, 'a cache hit');
    assert.equal(delta(second, third, 'updraft_blob_cache_misses_total'), 0, 'no miss');
    // The first read of the image (publish checks its header) went to the blob store.
    assert.ok(delta(initial, second, 'updraft_blob_cache_misses_total') >= 1, 'the first read was a miss');
  });

  it('docs/grafana-dashboard.json queries only series the server exports', async () => {
    const dashboard = JSON.parse(await readFile('docs/grafana-dashboard.json', 'utf8')) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    const text = await scrape();
    const exported = new Set(
      text
        .split('\n')
        .filter((l) => l.startsWith('# TYPE '))
        .map((l) => l.split(' ')[2]),
    );
    let checked = 0;
    for (const panel of dashboard.panels) {
      for (const { expr } of panel.targets) {
        for (const [name] of expr.matchAll(/\b(?:updraft|nodejs|process)_[a-z0-9_]+/g)) {
          const family = name.replace(/_(bucket|sum|count)$/, '');
          assert.ok(exported.has(family) || exported.has(name), `${panel.title}: ${name} is not exported`);
          checked++;
        }
      }
    }
    assert.ok(checked >= 15, `only ${checked} series referenced`);
  });

  it('starts the device gauge from the database after a restart', async () => {
    const dataDir = server.dataDir;
    await esp8266(server.httpPort, '1.1.0');
    await server.services.devices.flush();
    await server.stop();
    const again = await startTestServer({ dataDir, metricsToken: METRICS_TOKEN });
    try {
      const res = await fetch(`${again.url}/metrics`, {
        headers: { Authorization: `Bearer ${METRICS_TOKEN}` },
      });
      assert.equal(value(await res.text(), 'updraft_devices{product="sensor",version="1.1.0"}'), 1);
    } finally {
      await again.stop();
    }
  });
});

describe('deployments in the metrics', () => {
  it('shows devices per state per deployment and per wave, from the maintained counters', async () => {
    const server = await startTestServer({ metricsToken: METRICS_TOKEN });
    try {
      await publishRelease(server, 'meter', '2.0.0', { 'firmware.bin': espImage(1000) });
      const devices = ['d-1', 'd-2', 'd-3', 'd-4'];
      for (const id of devices) {
        server.services.devices.checkIn({
          deviceId: id,
          product: 'meter',
          version: '1.0.0',
          protocol: 'test',
        });
      }
      await server.services.devices.flush();
      const res = await server.api('/api/v1/deployments', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          product: 'meter',
          version: '2.0.0',
          devices,
          waves: ['1', '4'],
          successPercent: 0,
        }),
      });
      assert.equal(res.status, 201, await res.clone().text());
      const { id } = (await res.json()) as { id: string };
      const text = await (
        await fetch(`${server.url}/metrics`, { headers: { Authorization: `Bearer ${METRICS_TOKEN}` } })
      ).text();
      const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      assert.equal(check.status, 0, `promtool: ${check.stdout}${check.stderr}`);
      const total = [
        'pending',
        'offered',
        'downloading',
        'downloaded',
        'succeeded',
        'failed',
        'timed-out',
        'skipped',
      ]
        .map((state) =>
          value(
            text,
            `updraft_deployment_devices{deployment="${id}",product="meter",version="2.0.0",state="${state}"}`,
          ),
        )
        .reduce((a, b) => a + b, 0);
      assert.equal(total, 4);
      assert.equal(
        value(text, `updraft_deployment_wave_devices{deployment="${id}",wave="1",state="pending"}`),
        1,
      );
      assert.equal(
        value(text, `updraft_deployment_wave_devices{deployment="${id}",wave="2",state="pending"}`),
        3,
      );
      const active = ['scheduled', 'running', 'soaking', 'paused'].map((state) =>
        value(text, `updraft_deployments{state="${state}"}`),
      );
      assert.equal(
        active.reduce((a, b) => a + b, 0),
        1,
        'one active deployment',
      );
    } finally {
      await server.close();
    }
  });
});

describe('CoAP in the metrics', () => {
  it('counts a block-wise download by libcoap coap-client: requests, bytes, started and completed', async () => {
    const { server, url } = await startCoapTestServer({ metricsToken: METRICS_TOKEN });
    const dir = await tempDir('updraft-metrics-coap-');
    try {
      const image = espImage(10_000);
      await publishRelease(server, 'node', '1.0.0', { 'firmware.bin': image });
      const out = join(dir, 'firmware.bin');
      await coapClient([
        '-m',
        'get',
        '-b',
        '1024',
        '-B',
        '30',
        '-o',
        out,
        `${url}/fw/node/latest/firmware.bin`,
      ]);
      assert.ok((await readFile(out)).equals(image));
      await coapClient(['-m', 'get', '-B', '5', `${url}/fw/node/9.9.9/firmware.bin`]).catch(() => undefined);
      const res = await fetch(`${server.url}/metrics`, {
        headers: { Authorization: `Bearer ${METRICS_TOKEN}` },
      });
      const text = await res.text();
      const family = 'family="catalog-resources"';
      // 10 000 bytes in 1 KiB blocks: 10 requests answered 2.05, and the 4.04 for the missing version.
      assert.equal(value(text, `updraft_requests_total{transport="coap",${family},code_class="2xx"}`), 10);
      assert.equal(value(text, `updraft_requests_total{transport="coap",${family},code_class="4xx"}`), 1);
      assert.equal(value(text, `updraft_served_bytes_total{${family},product="node"}`), image.length);
      assert.equal(value(text, `updraft_downloads_total{${family},product="node",outcome="started"}`), 1);
      assert.equal(value(text, `updraft_downloads_total{${family},product="node",outcome="completed"}`), 1);
    } finally {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('--metrics-port', () => {
  it('serves /metrics on its own address and not on the main port', async () => {
    const metricsPort = await freePort();
    const server = await startTestServer({ metricsPort, metricsHost: '127.0.0.1' });
    try {
      assert.equal(server.metricsPort, metricsPort);
      const own = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      assert.equal(own.status, 200);
      assert.match(await own.text(), /updraft_check_ins_total/);
      const main = await server.api('/metrics');
      assert.notEqual(main.status, 200);
    } finally {
      await server.close();
    }
  });
});
