// npm run bench:ui: how fast the web view paints, in Debian's headless Chromium, for the example
// fleet and for the 1,000-cluster × 10,000-placement bench fleet. Each load is timed from
// navigation to the page showing the fleet (regions drawn, placements listed), beside the time
// the same two API answers take to fetch from Node alone: the page's own cost is the ratio.
// Also saves the screenshot the README shows (docs/web-view.png).

import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EmbeddedEngine } from '../src/embedded/engine.js';
import { loadFleet, loadPlacements } from '../src/fleet/snapshotFile.js';
import type { FleetSnapshot, Placement } from '../src/core/model.js';
import { buildApp } from '../src/server/app.js';
import { LoopbackOnly } from '../src/server/auth.js';
import { launchBrowser } from '../test/browser.js';
import { SCENARIOS, generate } from './scenarios.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 9);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

interface Measured {
  readonly fleet: string;
  readonly clusters: number;
  readonly placements: number;
  /** navigation to first contentful paint, ms */
  readonly firstPaintMs: number;
  /** navigation to the fleet and placements drawn, ms */
  readonly readyMs: number;
  /** fetching /v1/fleet and /v1/placements from Node, ms: the data alone */
  readonly dataMs: number;
}

const { browser, close } = await launchBrowser();

async function measure(name: string, snapshot: FleetSnapshot, placements: readonly Placement[], screenshot?: string): Promise<Measured> {
  const app = await buildApp({ engine: new EmbeddedEngine(snapshot, placements), auth: new LoopbackOnly() });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  const ready: number[] = [];
  const paint: number[] = [];
  const data: number[] = [];
  try {
    for (let i = 0; i < RUNS + 1; i++) {
      const t0 = performance.now();
      await Promise.all(['/v1/fleet', '/v1/placements'].map(async (p) => (await fetch(`${base}${p}`)).text()));
      const fetched = performance.now() - t0;
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await page.goto(`${base}/ui/`);
      await page.locator('details.region').first().waitFor();
      await page.locator('#placement-rows tr').first().waitFor();
      const t = await page.evaluate(() => ({
        ready: performance.now(),
        paint: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? Number.NaN,
      }));
      if (i > 0) {
        // the first load warms the server's caches and JIT; it is not counted
        ready.push(t.ready);
        paint.push(t.paint);
        data.push(fetched);
      }
      if (screenshot !== undefined && i === RUNS) await page.screenshot({ path: screenshot, fullPage: true });
      await page.close();
    }
  } finally {
    await app.close();
  }
  return { fleet: name, clusters: snapshot.clusters.length, placements: placements.length, firstPaintMs: median(paint), readyMs: median(ready), dataMs: median(data) };
}

const results: Measured[] = [];
try {
  const fleet = await loadFleet(join(root, 'examples', 'fleet.yaml'));
  const placements = await loadPlacements(join(root, 'examples', 'placements.yaml'));
  if (!fleet.ok || !placements.ok) throw new Error('the example fleet does not load');
  mkdirSync(join(root, 'docs'), { recursive: true });
  results.push(await measure('example', fleet.value.snapshot, placements.value, join(root, 'docs', 'web-view.png')));
  const large = generate(SCENARIOS.find((s) => s.name === 'large')!);
  results.push(await measure('large', large.snapshot, large.placements));
} finally {
  await close();
}

const machine = `${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores, node ${process.version}, Debian chromium headless`;
const pad = (s: string | number, n: number) => String(s).padEnd(n);
process.stdout.write(
  [
    `machine: ${machine}; median of ${RUNS} loads each`,
    '',
    `${pad('FLEET', 10)}${pad('CLUSTERS', 10)}${pad('PLACEMENTS', 12)}${pad('FIRST PAINT MS', 16)}${pad('READY MS', 10)}${pad('DATA MS', 9)}READY/DATA`,
    ...results.map(
      (r) =>
        `${pad(r.fleet, 10)}${pad(r.clusters, 10)}${pad(r.placements, 12)}${pad(r.firstPaintMs.toFixed(0), 16)}${pad(r.readyMs.toFixed(0), 10)}${pad(r.dataMs.toFixed(0), 9)}${(r.readyMs / r.dataMs).toFixed(1)}`,
    ),
    '',
  ].join('\n'),
);
const out = join(root, 'bench', 'results');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'ui.json'), `${JSON.stringify({ machine, runs: RUNS, results }, null, 2)}\n`);
