import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { ADMIN_TOKEN, publishRelease, startTestServer, type TestServer } from '../support/server.js';
import { launchBrowser, PHONE, LAPTOP, screenshot, type Browser } from './browser.js';

const INDEX = fileURLToPath(new URL('../../web/dist/index.html', import.meta.url));

describe('dashboard: the audit log page', () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  const rows = () => page.locator('table tbody tr');

  before(async () => {
    assert.ok(existsSync(INDEX), `${INDEX} is missing: run \`npm run build\` before the dashboard tests`);
    server = await startTestServer();
    browser = await launchBrowser();
    page = browser.page;
    // 60 actions: more than one page of 50.
    await publishRelease(server, 'thermostat', '1.0.0', { 'firmware.bin': Buffer.alloc(1000, 1) });
    for (let i = 0; i < 29; i++) {
      for (const action of ['revoke', 'publish']) {
        const res = await server.api(`/api/v1/products/thermostat/releases/1.0.0/${action}`, {
          method: 'POST',
        });
        assert.equal(res.status, 200);
      }
    }
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test('lists the actions newest first, filters them and pages back', async () => {
    await page.goto(server.url);
    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Audit log', exact: true })
      .click();
    await page.getByRole('heading', { level: 1, name: 'Audit log' }).waitFor();

    await rows().nth(49).waitFor();
    assert.equal(await rows().count(), 50);
    const first = rows().first();
    assert.equal(await first.locator('[data-label=Action]').innerText(), 'release.publish');
    assert.equal(await first.locator('[data-label=Target]').innerText(), 'thermostat@1.0.0');
    assert.equal(await first.locator('[data-label=Token]').innerText(), 'UPDRAFT_ADMIN_TOKEN');
    assert.equal(await first.locator('[data-label=Address]').innerText(), '127.0.0.1');
    await screenshot(page, 'audit');

    // The oldest ten are on the second page, ending with the product's creation.
    await page.getByRole('button', { name: 'Older' }).click();
    await page.getByText('51–60').waitFor();
    assert.equal(await rows().count(), 10);
    assert.equal(await rows().last().locator('[data-label=Action]').innerText(), 'product.create');
    assert.equal(await page.getByRole('button', { name: 'Older' }).isDisabled(), true);
    await page.getByRole('button', { name: 'Newer' }).click();
    await page.getByText('1–50').waitFor();

    await page.getByLabel(/^Action/).fill('release.create');
    await page.getByText('1–1').waitFor();
    assert.equal(await rows().count(), 1);
    assert.equal(
      await rows().first().locator('[data-label=Detail]').innerText(),
      'state: published; artifacts: firmware.bin',
    );
    await page.getByLabel(/^Action/).fill('');
    await page.getByLabel(/^Token/).fill('nobody');
    await page.getByText('Nothing matches.').waitFor();
  });

  test('stays readable at phone width', async () => {
    await page.getByLabel(/^Token/).fill('');
    await page.setViewportSize(PHONE);
    await rows().nth(49).waitFor();
    const width = (await page.evaluate('document.documentElement.scrollWidth')) as number;
    assert.ok(width <= PHONE.width, `the page scrolls sideways: ${width} px`);
    await screenshot(page, 'audit-phone');
    await page.setViewportSize(LAPTOP);
  });
});
