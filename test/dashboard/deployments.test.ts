import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { ADMIN_TOKEN, publishRelease, startTestServer, type TestServer } from '../support/server.js';
import { espImage } from '../devices/helpers.js';
import { device, round, type SimDevice } from '../deployments/fleet.js';
import { launchBrowser, screenshot, type Browser } from './browser.js';

const INDEX = fileURLToPath(new URL('../../web/dist/index.html', import.meta.url));
const PRODUCT = 'greenhouse';

async function eventually<T>(probe: () => Promise<T | undefined>, message: string, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(message);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The count a wave's bar shows for one state (0 when the state has no segment). */
async function segment(page: Page, wave: number, state: string): Promise<number> {
  const bar = page.getByTestId(`wave-${wave}`).locator(`[data-state="${state}"]`);
  return (await bar.count()) === 0 ? 0 : Number(await bar.getAttribute('data-count'));
}

/**
 * The deployments pages in Debian's Chromium, driven as an operator would, while a fleet of ESP8266 devices
 * (the full ESP8266httpUpdate header set, test/deployments/fleet.ts) checks in against the same server.
 */
describe('dashboard: deployments and device tags in a real browser', () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let firstWave = 0;
  const fleet: SimDevice[] = Array.from({ length: 10 }, (_, i) =>
    device(i + 1, { product: PRODUCT, version: '1.0.0' }),
  );

  before(async () => {
    assert.ok(existsSync(INDEX), `${INDEX} is missing: run \`npm run build\` before the dashboard tests`);
    server = await startTestServer({ deploymentTickMs: 100 });
    await publishRelease(server, PRODUCT, '1.0.0', { 'firmware.bin': espImage(4096, 1) });
    await publishRelease(server, PRODUCT, '2.0.0', { 'firmware.bin': espImage(4096, 2) });
    const mode = await server.api(`/api/v1/products/${PRODUCT}/rollout-mode`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rolloutMode: 'deployments' }),
    });
    assert.equal(mode.status, 200, await mode.text());
    // Every device is known at 1.0.0; in `deployments` mode nobody is offered 2.0.0 yet.
    await round(server.httpPort, fleet);
    assert.ok(
      fleet.every((d) => d.served.length === 0),
      'no device is offered anything without a deployment',
    );
    browser = await launchBrowser();
    page = browser.page;
    await page.goto(server.url);
    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test('tags a device on its page, and the tag is stored', async () => {
    const target = fleet[0] as SimDevice;
    await page.goto(`${server.url}/#/devices/${encodeURIComponent(target.id)}`);
    await page.getByLabel('New tags').fill('beta lab');
    await page.getByRole('button', { name: 'Add tags' }).click();
    await page.getByTestId('tags').getByText('beta').waitFor();
    const stored = (await (
      await server.api(`/api/v1/devices/${encodeURIComponent(target.id)}/tags`)
    ).json()) as { tags: string[] };
    assert.deepEqual([...stored.tags].sort(), ['beta', 'lab']);
    await page.getByRole('button', { name: 'Remove tag lab' }).click();
    await eventually(async () => {
      const now = (await (
        await server.api(`/api/v1/devices/${encodeURIComponent(target.id)}/tags`)
      ).json()) as { tags: string[] };
      return now.tags.length === 1 && now.tags[0] === 'beta' ? true : undefined;
    }, 'the removed tag is gone on the server');
  });

  test('previews a deployment with the dry-run numbers, then starts it', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Deployments' }).click();
    await page.getByRole('heading', { level: 1, name: 'Deployments' }).waitFor();
    await page.getByTestId('no-deployments').waitFor();
    await page.getByLabel('Product', { exact: true }).fill(PRODUCT);
    await page.getByLabel('Version', { exact: true }).fill('2.0.0');
    await page.getByLabel('Waves', { exact: true }).fill('50%,100%');
    await page.getByLabel('Soak time per wave').fill('1h');
    await page.getByLabel('Timeout per device').fill('1h');
    await page.getByRole('button', { name: 'Preview' }).click();
    const preview = page.getByTestId('dry-run');
    await preview.waitFor();
    assert.match(await preview.innerText(), /matches 10 devices/);
    // Wave membership is a stable hash of (deployment, device): about half, and every device in one wave.
    const sizes = [...(await preview.innerText()).matchAll(/Wave (\d) \((50|100)%\): (\d+) devices?/g)].map(
      (m) => Number(m[3]),
    );
    assert.equal(sizes.length, 2, await preview.innerText());
    assert.equal((sizes[0] as number) + (sizes[1] as number), 10);
    // The preview wrote nothing.
    const none = (await (await server.api('/api/v1/deployments')).json()) as { items: unknown[] };
    assert.equal(none.items.length, 0, 'a dry run creates no deployment');

    await page.getByRole('button', { name: 'Start deployment' }).click();
    await page.getByTestId('waves').waitFor();
    const created = (await (await server.api('/api/v1/deployments')).json()) as {
      items: { id: string; total: number; waves: { total: number }[] }[];
    };
    assert.equal(created.items.length, 1);
    assert.equal(created.items[0]?.total, 10);
    firstWave = (created.items[0] as { waves: { total: number }[] }).waves[0]?.total ?? 0;
    assert.ok(firstWave > 0 && firstWave < 10, `first wave of ${firstWave}`);
    assert.ok(page.url().endsWith(`#/deployments/${created.items[0]?.id}`), page.url());
  });

  test('shows each wave as a stacked bar that follows the devices live, without a reload', async () => {
    // Wave 1 opens at the next scheduler tick; its devices download and boot 2.0.0 over two rounds.
    await eventually(async () => {
      await round(server.httpPort, fleet);
      return fleet.filter((d) => d.version === '2.0.0').length >= firstWave ? true : undefined;
    }, 'the first wave gets the release');
    await round(server.httpPort, fleet); // the updated devices report 2.0.0: succeeded
    await eventually(
      async () => ((await segment(page, 1, 'succeeded')) === firstWave ? true : undefined),
      'the first wave bar shows its devices succeeded',
    );
    assert.equal(await segment(page, 2, 'succeeded'), 0, 'the second wave is still soaking');
    assert.equal(
      fleet.filter((d) => d.version === '2.0.0').length,
      firstWave,
      'only the first wave was offered the release',
    );
    assert.equal(await page.getByTestId('succeeded').innerText(), String(firstWave));
    await screenshot(page, 'deployment-wave-1');
  });

  test('pauses and resumes from the page', async () => {
    await page.getByRole('button', { name: 'Pause', exact: true }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Pause' }).click();
    await page.locator('.badge-paused').waitFor();
    const id = page.url().split('/').pop() as string;
    const paused = (await (await server.api(`/api/v1/deployments/${id}`)).json()) as { state: string };
    assert.equal(paused.state, 'paused');
    await page.getByRole('button', { name: 'Resume', exact: true }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Resume' }).click();
    await eventually(
      async () => ((await page.locator('.badge-paused').count()) === 0 ? true : undefined),
      'the paused badge goes',
    );
  });
});
