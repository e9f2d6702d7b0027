// The web view in a real headless Chromium, against Orrery serving the embedded example fleet:
// the page must show what the API answers, follow a scale without a reload, explain a
// placement that is partly scheduled, answer the what-if form as /v1/capacity/fit does, ask for
// the token when one is set, and keep a 1,000-cluster fleet to its regions until one is opened.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { EmbeddedEngine } from '../src/embedded/engine.js';
import { loadFleet, loadPlacements } from '../src/fleet/snapshotFile.js';
import { makeSnapshot } from '../src/core/model.js';
import { buildApp } from '../src/server/app.js';
import { LoopbackOnly, StaticToken } from '../src/server/auth.js';
import { launchBrowser } from './browser.js';
import { cluster, placement } from './fixtures.js';

const root = join(import.meta.dirname, '..', '..');
const TOKEN = 'ui-test-token';
let base: string;
let browser: Browser;
let closeBrowser: () => Promise<void>;
const servers: FastifyInstance[] = [];

async function serveExample(auth = new StaticToken(TOKEN)): Promise<{ base: string }> {
  const fleet = await loadFleet(join(root, 'examples', 'fleet.yaml'));
  const placements = await loadPlacements(join(root, 'examples', 'placements.yaml'));
  assert.ok(fleet.ok && placements.ok);
  const a = await buildApp({ engine: new EmbeddedEngine(fleet.value.snapshot, placements.value), auth });
  servers.push(a);
  return { base: await a.listen({ port: 0, host: '127.0.0.1' }) };
}

// biome-ignore lint/suspicious/noExplicitAny: each test reads the answer of the route it asked, in that route's documented shape
async function api(path: string, init: RequestInit = {}): Promise<any> {
  const res = await fetch(`${base}${path}`, { ...init, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...(init.headers ?? {}) } });
  assert.ok(res.ok, `${path}: ${res.status}`);
  return res.json();
}

/** A page signed in with the token, showing the fleet. */
async function signedIn(): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(`${base}/`);
  await page.locator('#token').fill(TOKEN);
  await page.locator('#login button').click();
  await page.locator('#main').waitFor({ state: 'visible' });
  return page;
}

before(async () => {
  ({ base } = await serveExample());
  ({ browser, close: closeBrowser } = await launchBrowser());
});

after(async () => {
  await closeBrowser?.();
  for (const s of servers) await s.close();
});

test('the page asks for the token, and refuses a wrong one', async () => {
  const page = await browser.newPage();
  await page.goto(`${base}/ui/`);
  await page.locator('#login').waitFor({ state: 'visible' });
  assert.equal(await page.locator('#main').isHidden(), true);
  await page.locator('#token').fill('wrong');
  await page.locator('#login button').click();
  await page.locator('#login-error').filter({ hasText: 'refused' }).waitFor();
  await page.locator('#token').fill(TOKEN);
  await page.locator('#login button').click();
  await page.locator('#main').waitFor({ state: 'visible' });
  assert.equal(await page.locator('#login').isVisible(), false, 'the form goes once signed in');
  await page.close();
});

test("free accelerators and every decision are the API's", async () => {
  const capacity = await api('/v1/capacity');
  const { items } = await api('/v1/placements');
  const page = await signedIn();
  const gpu = capacity.deviceClasses.find((d: { deviceClassName: string }) => d.deviceClassName === 'gpu.nvidia.com');
  assert.ok(gpu.total > 0);
  const total = await page.locator('#accelerator-total [data-class="gpu.nvidia.com"]').innerText();
  assert.equal(total.replace(/\s/g, ''), `${gpu.free}/${gpu.total}`);
  // per region too
  for (const r of capacity.regions) {
    const d = r.devices['gpu.nvidia.com'];
    if (d === undefined) continue;
    const cell = await page.locator(`#accelerator-table tr[data-region="${r.name}"] [data-class="gpu.nvidia.com"]`).innerText();
    assert.equal(cell.replace(/\s/g, ''), `${d.free}/${d.total}`, r.name);
  }
  assert.ok(items.length > 0);
  for (const { decision, placement: p } of items) {
    const row = page.locator(`tr[data-placement="${decision.placement}"]`);
    assert.equal(await row.locator('[data-field="asked"]').innerText(), String(p.spec.replicas));
    assert.equal(await row.locator('[data-field="unscheduled"]').innerText(), String(decision.unscheduledReplicas));
    const where = await row.locator('[data-where]').evaluateAll((els) => els.map((e) => e.textContent));
    assert.deepEqual(
      where,
      decision.clusters.map((c: { name: string; replicas: number }) => `${c.name} × ${c.replicas}`),
      decision.placement,
    );
  }
  // each cluster's card: what Orrery reserves there is what the decisions put there, in CPU
  const fleet = await api('/v1/fleet');
  const reserved = fleet.clusters.filter((c: { cpu: { orrery: number } }) => c.cpu.orrery > 0);
  assert.ok(reserved.length > 0);
  for (const c of fleet.clusters) {
    const title = await page.locator(`[data-cluster="${c.name}"] .bar`).first().getAttribute('title');
    assert.match(title ?? '', new RegExp(`Orrery ${c.cpu.orrery / 1000}[ ,]`), c.name);
  }
  await page.close();
});

test('a scale through the API shows on the page without a reload', async () => {
  const page = await signedIn();
  // a mark on the window: a reload would lose it
  await page.evaluate(() => ((globalThis as { orreryMark?: number }).orreryMark = 1));
  const row = page.locator('tr[data-placement="shop/storefront"]');
  const asked = Number(await row.locator('[data-field="asked"]').innerText());
  const scaled = await api('/v1/namespaces/shop/placements/storefront/scale', { method: 'POST', body: JSON.stringify({ replicas: asked + 3 }) });
  const placed = scaled.decision.clusters.reduce((s: number, c: { replicas: number }) => s + c.replicas, 0);
  await row
    .locator('[data-field="asked"]')
    .filter({ hasText: String(asked + 3) })
    .waitFor({ timeout: 5000 });
  assert.equal(await row.locator('[data-field="placed"]').innerText(), String(placed));
  assert.equal(await page.evaluate(() => (globalThis as { orreryMark?: number }).orreryMark), 1, 'no reload');
  await api('/v1/namespaces/shop/placements/storefront/scale', { method: 'POST', body: JSON.stringify({ replicas: asked }) });
  await row
    .locator('[data-field="asked"]')
    .filter({ hasText: String(asked) })
    .waitFor({ timeout: 5000 });
  await page.close();
});

test('explain opens for a partly scheduled placement and names the filter that refused each cluster', async () => {
  const { items } = await api('/v1/placements');
  const partial = items.find((v: { decision: { reason: string } }) => v.decision.reason === 'PartiallyScheduled');
  assert.ok(partial, 'the example fleet has a partly scheduled placement');
  const key: string = partial.decision.placement;
  const [ns, name] = key.split('/');
  const explained = await api(`/v1/namespaces/${ns}/placements/${name}/explain`);
  const page = await signedIn();
  await page.locator(`tr[data-placement="${key}"]`).click();
  await page.locator('#explain').waitFor({ state: 'visible' });
  const refused = explained.clusters.filter((c: { eligible: boolean }) => !c.eligible);
  assert.ok(
    refused.some((c: { reason: { plugin: string } }) => c.reason.plugin === 'DeviceClass'),
    'a cluster without the device class',
  );
  for (const c of refused) {
    assert.equal(await page.locator(`[data-explain-cluster="${c.name}"] [data-refused-by]`).getAttribute('data-refused-by'), c.reason.plugin, c.name);
  }
  for (const c of explained.clusters.filter((x: { eligible: boolean }) => x.eligible)) {
    assert.match(await page.locator(`[data-explain-cluster="${c.name}"]`).innerText(), new RegExp(`score\\s+${c.score.toFixed(1)}`));
  }
  await page.close();
});

test('the what-if form answers as /v1/capacity/fit does', async () => {
  const page = await signedIn();
  const form = page.locator('#fit-form');
  await form.locator('[name="cpu"]').fill('4');
  await form.locator('[name="memory"]').fill('16Gi');
  await form.locator('[name="accelerator"]').selectOption('gpu.nvidia.com');
  await form.locator('[name="devices"]').fill('2');
  await form.locator('button').click();
  await page.locator('#fit-total').waitFor();
  const fit = await api('/v1/capacity/fit?cpu=4&memory=16Gi&deviceClass=gpu.nvidia.com&devices=2');
  assert.equal(await page.locator('#fit-total').innerText(), String(fit.total));
  const rows = await page.locator('[data-fit-cluster]').evaluateAll((els) => els.map((e) => [e.getAttribute('data-fit-cluster'), e.lastElementChild?.textContent]));
  assert.deepEqual(
    rows,
    fit.clusters.map((c: { name: string; replicas: number }) => [c.name, String(c.replicas)]),
  );
  // and CPU alone, in one region: the region goes through too
  await form.locator('[name="accelerator"]').selectOption('');
  await form.locator('[name="region"]').selectOption('us-east1');
  await form.locator('button').click();
  const cpuFit = await api('/v1/capacity/fit?cpu=4&memory=16Gi&region=us-east1');
  await page
    .locator('#fit-total')
    .filter({ hasText: String(cpuFit.total) })
    .waitFor({ timeout: 5000 });
  assert.deepEqual(
    await page.locator('[data-fit-cluster]').evaluateAll((els) => els.map((e) => e.getAttribute('data-fit-cluster'))),
    cpuFit.clusters.map((c: { name: string }) => c.name),
  );
  await page.close();
});

test('a 1,000-cluster fleet paints its regions collapsed; a region opens and the filters narrow it', async () => {
  const regions = ['eu-north', 'eu-west', 'us-east', 'us-west', 'ap-south'];
  const clusters = Array.from({ length: 1000 }, (_, i) =>
    cluster(`c${String(i).padStart(4, '0')}`, { region: regions[i % regions.length] as string, cpu: 64, usedCpu: i % 32, ...(i % 7 === 2 ? { devices: { 'gpu.nvidia.com': [8, i % 8] } } : {}) }),
  );
  const engine = new EmbeddedEngine(makeSnapshot(clusters), [placement('train', { replicas: 30, cpu: '2' })]);
  const big = await buildApp({ engine, auth: new LoopbackOnly() });
  servers.push(big);
  const url = await big.listen({ port: 0, host: '127.0.0.1' });
  const page = await browser.newPage();
  await page.goto(`${url}/ui/`);
  await page.locator('details.region').first().waitFor();
  assert.equal(await page.locator('details.region').count(), regions.length);
  assert.equal(await page.locator('.cluster').count(), 0, 'no card drawn before a region is opened');
  await page.locator('details.region[data-region="us-east"] > summary').click();
  await page.locator('details.region[data-region="us-east"] .cluster').first().waitFor();
  assert.equal(await page.locator('.cluster').count(), 200);
  // only clusters with GPUs, in one region
  await page.locator('#class-filter').selectOption('gpu.nvidia.com');
  await page.locator('#region-filter').selectOption('us-east');
  assert.equal(await page.locator('details.region').count(), 1);
  const shown = await page.locator('.cluster').count();
  assert.equal(shown, clusters.filter((c) => c.location.region === 'us-east' && c.devices.length > 0).length);
  // the region's summary counts its free GPUs as /v1/capacity does
  const capacity = (await (await fetch(`${url}/v1/capacity?region=us-east`)).json()) as { regions: { devices: Record<string, { free: number }> }[] };
  const free = capacity.regions[0]?.devices['gpu.nvidia.com']?.free ?? -1;
  assert.match(await page.locator('details.region[data-region="us-east"] > summary').innerText(), new RegExp(`${free.toLocaleString('en')} gpu.nvidia.com free`));
  await page.close();
});

test('at 600 px wide the page does not scroll sideways and every placement is read whole', async () => {
  const page = await browser.newPage({ viewport: { width: 600, height: 900 } });
  await page.goto(`${base}/`);
  await page.locator('#token').fill(TOKEN);
  await page.locator('#login button').click();
  await page.locator('#main').waitFor({ state: 'visible' });
  const { items } = await api('/v1/placements');
  await page
    .locator('tr.placement')
    .nth(items.length - 1)
    .waitFor();
  // read in the page (the test itself has no DOM types): what sticks out past its width
  const overflow = () =>
    page.evaluate(`(() => {
      const width = document.documentElement.clientWidth;
      // what scrolls inside its own box is read there
      const out = [...document.querySelectorAll('main *')].filter((e) => e.closest('.scroll') === null && e.getBoundingClientRect().width > 0 && e.getBoundingClientRect().right > width + 1);
      return { page: document.documentElement.scrollWidth - width, cut: out.slice(0, 5).map((e) => e.tagName + '.' + e.className) };
    })()`);
  assert.deepEqual(await overflow(), { page: 0, cut: [] });
  // each placement's condition, the widest cell, is on screen in full
  for (const v of items) {
    const row = page.locator(`tr[data-placement="${v.decision.placement}"]`);
    assert.match(await row.innerText(), new RegExp(v.decision.message.slice(0, 40).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  }
  const partial = items.find((v: { decision: { reason: string } }) => v.decision.reason === 'PartiallyScheduled');
  await page.locator(`tr[data-placement="${partial.decision.placement}"]`).click();
  await page.locator('#explain').waitFor({ state: 'visible' });
  assert.deepEqual(await overflow(), { page: 0, cut: [] }, 'nor with explain open');
  await page.close();
});
