import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../support/server.js';
import { launchBrowser, PHONE, LAPTOP, screenshot, type Browser } from './browser.js';
import { seedFleet } from './fleet.js';
import { Code } from '../../src/transports/coap/message.js';
import { seedForm, startScriptedDevice, startSilentDevice } from '../riot-seed/helpers.js';

const INDEX = fileURLToPath(new URL('../../web/dist/index.html', import.meta.url));
const README_IMAGE = fileURLToPath(new URL('../../docs/images/dashboard-overview.png', import.meta.url));
const MAC = '18:FE:AA:AA:AA:AA';
const PUBLISH_ID = 'samr21-xpro_suit_update';

/** The dashboard is built by `npm run build` (run by `npm ci` through `prepare`); this test builds nothing. */
function requireBuild(): void {
  assert.ok(existsSync(INDEX), `${INDEX} is missing: run \`npm run build\` before the dashboard tests`);
}

async function eventually<T>(probe: () => Promise<T | undefined>, message: string, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(message);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const barValue = (page: Page, chart: string, label: string) =>
  page.locator(`#${chart} g[data-label="${label}"]`).getAttribute('data-value');

async function openNav(page: Page, name: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true }).click();
  await page.getByRole('heading', { level: 1, name }).waitFor();
}

/** What an ESP8266 running ESP8266httpUpdate sends (Arduino core `ESP8266httpUpdate.cpp`, `handleUpdate`). */
function esp8266CheckIn(server: TestServer, product: string, version: string): Promise<Response> {
  return fetch(`${server.url}/${product}`, {
    headers: {
      'User-Agent': 'ESP8266-http-Update',
      'x-ESP8266-STA-MAC': MAC,
      'x-ESP8266-AP-MAC': '1A:FE:AA:AA:AA:AA',
      'x-ESP8266-free-space': '1000000',
      'x-ESP8266-sketch-size': '300000',
      'x-ESP8266-sketch-md5': '0123456789abcdef0123456789abcdef',
      'x-ESP8266-chip-size': '4194304',
      'x-ESP8266-sdk-version': '2.2.2-dev(38a443e)',
      'x-ESP8266-mode': 'sketch',
      'x-ESP8266-version': version,
    },
  });
}

describe('dashboard: an operator in a real browser', () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;

  before(async () => {
    requireBuild();
    // The notify form sends CoAP to devices: a public URL to put in the trigger, and a short deadline.
    server = await startTestServer({ coapPublicUrl: 'coap://[2001:db8::1]', notifyTimeoutMs: 1000 });
    browser = await launchBrowser();
    page = browser.page;
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test('is served at / only, with cache headers that suit a hashed build', async () => {
    const index = await fetch(`${server.url}/`);
    assert.equal(index.status, 200);
    assert.match(index.headers.get('content-type') ?? '', /text\/html/);
    assert.equal(index.headers.get('cache-control'), 'no-cache');
    const html = await index.text();
    assert.doesNotMatch(html, /https?:\/\//, 'no external URL: the dashboard works offline');
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    assert.ok(script, 'index.html loads a bundled script');
    const asset = await fetch(`${server.url}${script}`);
    assert.equal(asset.status, 200);
    assert.match(asset.headers.get('cache-control') ?? '', /immutable/);
    const apiWithoutToken = await fetch(`${server.url}/api/v1/products`);
    assert.equal(apiWithoutToken.status, 401);
  });

  test('signs in with an admin token', async () => {
    await page.goto(server.url);
    await screenshot(page, 'sign-in');
    await page.getByLabel('Admin token').fill('wrong-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
  });

  test('creates a product and uploads a release of two files by drag and drop', async () => {
    await openNav(page, 'Products');
    await page.getByLabel('Name').fill('thermostat');
    await page.getByLabel('Device family').fill('esp8266');
    await page.getByRole('button', { name: 'Create product' }).click();
    await page.getByRole('heading', { level: 1, name: 'thermostat' }).waitFor();

    await page.getByLabel('Version').fill('1.0.0');
    await page.getByLabel('Notes').fill('Faster Wi-Fi reconnect.\nFixes the display flicker.');
    const files = await page.evaluateHandle(`(() => {
      const data = new DataTransfer();
      data.items.add(new File([new Uint8Array(512 * 1024).fill(7)], 'firmware.bin'));
      data.items.add(new File([new Uint8Array(64 * 1024).fill(9)], 'spiffs.bin'));
      return data;
    })()`);
    await page.getByTestId('drop-zone').dispatchEvent('drop', { dataTransfer: files });
    await page.getByRole('list', { name: 'Files to upload' }).getByText('spiffs.bin').waitFor();
    await page.getByRole('button', { name: 'Upload', exact: true }).click();

    await page.getByRole('status').getByText('Uploaded').waitFor();
    assert.equal(await page.getByTestId('upload-progress').getAttribute('value'), '1');
    const row = page.locator('[data-testid=releases] tr[data-version="1.0.0"]');
    await row.waitFor();
    assert.equal(await row.getAttribute('data-state'), 'published');
    await screenshot(page, 'product');

    await openNav(page, 'Products');
    await page.getByRole('link', { name: 'thermostat' }).waitFor();
    await screenshot(page, 'products');
  });

  test('shows a release with its artifacts and digests', async () => {
    await page.getByRole('link', { name: 'thermostat' }).click();
    await page.getByRole('link', { name: '1.0.0' }).click();
    const artifacts = page.getByTestId('artifacts');
    await artifacts.getByText('firmware.bin').waitFor();
    assert.equal(await artifacts.locator('tbody tr').count(), 2);
    const release = (await (await server.api('/api/v1/products/thermostat/releases/1.0.0')).json()) as {
      artifacts: { sha256: string; md5: string }[];
    };
    for (const a of release.artifacts) {
      await artifacts.getByText(a.sha256).waitFor();
      await artifacts.getByText(a.md5).waitFor();
    }
    await page.getByText('Fixes the display flicker.').waitFor();
    await screenshot(page, 'release');
  });

  test('lists an ESP8266 that checked in, with its version, and shows its history', async () => {
    await esp8266CheckIn(server, 'thermostat', '0.9.0');
    await eventually(async () => {
      const res = await server.api(`/api/v1/devices?search=${encodeURIComponent(MAC.toLowerCase())}`);
      const body = (await res.json()) as { total: number };
      return body.total === 1 ? true : undefined;
    }, `the ESP8266 check-in (GET /thermostat as ${MAC}) did not register a device: is the ESP8266 adapter registered?`);

    await openNav(page, 'Devices');
    await page.getByLabel('Search id, MAC or address').fill('18:fe:aa');
    const row = page.locator('.data-table tbody tr', { hasText: MAC.toLowerCase() });
    await row.waitFor();
    assert.equal(await page.locator('.data-table tbody tr').count(), 1);
    assert.equal((await row.locator('td[data-label="Version"]').textContent())?.trim(), '0.9.0');
    assert.equal((await row.locator('td[data-label="Product"]').textContent())?.trim(), 'thermostat');
    await screenshot(page, 'devices');

    await row.getByRole('link').click();
    await page.getByRole('heading', { level: 1, name: MAC.toLowerCase() }).waitFor();
    await page.getByTestId('history').getByText('check-in').first().waitFor();
    await screenshot(page, 'device');
  });

  test('revokes the release after a confirmation, and the overview reflects it', async () => {
    await openNav(page, 'Overview');
    await page.locator('#chart-releases g[data-label="published"]').waitFor();
    assert.equal(await barValue(page, 'chart-releases', 'published'), '1');
    assert.equal(await barValue(page, 'chart-releases', 'revoked'), '0');
    assert.equal(await barValue(page, 'chart-versions', 'thermostat 0.9.0'), '1');
    assert.match(
      (await page.locator('#chart-versions svg').getAttribute('aria-label')) ?? '',
      /thermostat 0\.9\.0: 1 device\b/,
    );
    await page.getByTestId('recently-published').getByText('thermostat 1.0.0').waitFor();
    await screenshot(page, 'overview');

    await page.getByTestId('recently-published').getByRole('link', { name: 'thermostat 1.0.0' }).click();
    await page.getByRole('button', { name: 'Revoke' }).click();
    const dialog = page.getByRole('dialog', { name: 'Revoke thermostat 1.0.0?' });
    await dialog.waitFor();
    await screenshot(page, 'release-revoke-dialog');
    await dialog.getByRole('button', { name: 'Revoke' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await page.locator('h1 .badge-revoked').waitFor();

    await openNav(page, 'Overview');
    await page.getByText('No published release.').waitFor();
    assert.equal(await barValue(page, 'chart-releases', 'published'), '0');
    assert.equal(await barValue(page, 'chart-releases', 'revoked'), '1');
    assert.match(
      (await page.locator('#chart-releases svg').getAttribute('aria-label')) ?? '',
      /revoked: 1 release\b/,
    );
    await screenshot(page, 'overview-after-revoke');
  });

  test('shows the RIOT publish ids page, empty when there are none', async () => {
    await openNav(page, 'RIOT publish ids');
    await page.getByTestId('no-publish-ids').waitFor();
    await screenshot(page, 'publish-ids');
  });

  test('lists RIOT publish ids, notifies devices and removes a version (the real seed endpoints)', async () => {
    // What `make suit/publish` uploads (today's RIOT names), twice: two builds of one publish id.
    for (const build of ['1700000000', '1700000100']) {
      const published = await server.api('/publish', {
        method: 'POST',
        body: seedForm(PUBLISH_ID, {
          [`bin/riot.suit.${build}.bin`]: randomBytes(480),
          [`bin/slot0.${build}.bin`]: randomBytes(180_224),
          [`bin/slot1.${build}.bin`]: randomBytes(180_224),
        }),
      });
      assert.equal(published.status, 200, await published.text());
    }
    const device = await startScriptedDevice({ inactiveSlot: 0, triggerCode: Code.CHANGED });
    const unreachable = await startSilentDevice();
    try {
      await page.reload();
      await page.getByRole('heading', { level: 2, name: PUBLISH_ID }).waitFor();
      await page.getByRole('cell', { name: 'riot.suit.latest.bin' }).waitFor();
      await page.getByLabel(/Device URLs/).fill(`${device.address}\n${unreachable.address}`);
      await page.getByRole('button', { name: 'Notify' }).click();
      const results = page.getByRole('list', { name: 'Notify results' });
      await results.getByText('timeout').waitFor();
      await results.getByText('ok').waitFor();
      assert.deepEqual(
        device.received.map((r) => [r.method, r.path, r.payload]),
        [['POST', 'suit/trigger', `coap://[2001:db8::1]/${PUBLISH_ID}/riot.suit.latest.bin`]],
      );
      await screenshot(page, 'publish-ids-notified');

      await page.getByRole('button', { name: 'Remove 1700000000' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Remove' }).click();
      await page.getByRole('button', { name: 'Remove 1700000000' }).waitFor({ state: 'detached' });
      const listed = (await (await server.api('/api/v1/publish-ids')).json()) as {
        items: { publishId: string; versions: string[] }[];
      };
      assert.deepEqual(
        listed.items.map((i) => [i.publishId, i.versions]),
        [[PUBLISH_ID, ['1700000100']]],
      );
      await page.getByRole('button', { name: 'Remove 1700000100' }).waitFor();
    } finally {
      await device.close();
      await unreachable.close();
    }
  });

  test('stays readable at phone width', async () => {
    await page.setViewportSize(PHONE);
    await openNav(page, 'Overview');
    await page.locator('#chart-releases g[data-label="revoked"]').waitFor();
    await screenshot(page, 'phone-overview');
    await openNav(page, 'Devices');
    await page.locator('.data-table tbody tr').first().waitFor();
    await screenshot(page, 'phone-devices');
    await page.setViewportSize(LAPTOP);
  });
});

describe('dashboard: a fleet of 10,000 devices', () => {
  let server: TestServer;
  let browser: Browser;

  before(async () => {
    requireBuild();
    server = await startTestServer();
    await seedFleet(server, 10_000);
    browser = await launchBrowser();
    await browser.context.addInitScript(
      `sessionStorage.setItem('updraft.token', ${JSON.stringify(ADMIN_TOKEN)})`,
    );
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  // The goal is a first page under a second (measured 0.3-0.65 s alone; reported as a diagnostic, the figure
  // belongs in bench/). What makes it fast is asserted instead: the page asks the API for one page of devices,
  // never the whole fleet, and shows exactly that page.
  test('renders the first page of the devices table from one page of the API with 10,000 devices', async (t) => {
    const { page } = browser;
    const deviceRequests: URL[] = [];
    const onRequest = (request: { url(): string }) => {
      const url = new URL(request.url());
      if (url.pathname === '/api/v1/devices') deviceRequests.push(url);
    };
    page.on('request', onRequest);
    const start = performance.now();
    await page.goto(`${server.url}/#/devices`);
    await page.locator('.data-table tbody tr').first().waitFor({ state: 'visible' });
    t.diagnostic(`first row after ${(performance.now() - start).toFixed(0)} ms`);
    page.off('request', onRequest);
    assert.ok(deviceRequests.length >= 1, 'the table asked the API for devices');
    for (const url of deviceRequests) {
      const limit = Number(url.searchParams.get('limit'));
      assert.ok(limit >= 1 && limit <= 50, `asked for ${url.search}`);
    }
    assert.equal(await page.locator('.data-table tbody tr').count(), 50);
    assert.match(
      (await page.getByRole('navigation', { name: 'Pages' }).textContent()) ?? '',
      /1–50 of 10,000/,
    );
  });

  test('sorts and pages on the server, from the keyboard', async () => {
    const { page } = browser;
    const header = page.locator('th', { has: page.getByRole('button', { name: /^Version/ }) });
    await page.getByRole('button', { name: /^Version/ }).focus();
    await page.keyboard.press('Enter');
    await eventually(
      async () => ((await header.getAttribute('aria-sort')) === 'ascending' ? true : undefined),
      'sorted',
    );
    await page.getByRole('button', { name: 'Next' }).press('Enter');
    await page.getByRole('navigation', { name: 'Pages' }).getByText('51–100 of 10,000').waitFor();
    await screenshot(page, 'devices-fleet');
  });

  test('draws the fleet on the overview (the README screenshot)', async () => {
    const { page } = browser;
    await openNav(page, 'Overview');
    assert.equal(await page.getByTestId('device-total').textContent(), '10,000 devices');
    await page.locator('#chart-versions g[data-state="revoked"]').waitFor();
    const path = await screenshot(page, 'overview-fleet');
    // The README's image is refreshed on request only, so a test run never changes a tracked file.
    if (process.env.UPDATE_README_SCREENSHOT === '1') {
      await mkdir(dirname(README_IMAGE), { recursive: true });
      await copyFile(path, README_IMAGE);
    }
  });
});
