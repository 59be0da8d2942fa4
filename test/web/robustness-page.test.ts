/**
 * The robustness view and the gallery's subgroup filter in Chromium, over the Node API serving a
 * tiny run the CLI made with corrupted sets and a planted attributes file (group=a: every 10th
 * image). What the page shows is checked against the JSON API's answers; screenshots go to
 * test-artifacts/screenshots/.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNodeServer, type NodeServer } from '../../api/node.ts';
import { buildRobustRun } from '../robust-run.ts';
import { launchChromium } from './chromium.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const SHOTS = join(import.meta.dirname, '../../test-artifacts/screenshots');

let server: NodeServer;
let browser: Browser;
let page: Page;
const problems: string[] = [];
const json = async (path: string): Promise<Json> => (await fetch(`${server.url}${path}`)).json() as Promise<Json>;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  const { runsDir } = buildRobustRun();
  server = await startNodeServer({ runsDir, port: 0, env: { PIE_PUBLIC_READS: 'true' } });
  browser = await launchChromium();
  page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  page.on('pageerror', (e) => problems.push(`script error: ${e.message}`));
  page.on('console', (m) => { if (/Content[- ]Security[- ]Policy/i.test(m.text())) problems.push(`CSP: ${m.text()}`); });
}, 120_000);
afterAll(async () => { await browser?.close(); await server?.close(); });

describe('robustness view in Chromium', () => {
  it('draws the levels × corruptions heatmap with the API’s relative accuracies', async () => {
    const rob = await json('/v1/runs/latest/robustness');
    await page.goto(`${server.url}/#/robustness`);
    await page.locator('[data-cell]').first().waitFor();
    const cells = await page.locator('[data-cell]').evaluateAll((els) => els.map((e) => [e.getAttribute('data-cell'), e.textContent]));
    expect(cells).toHaveLength(rob.levels.length * rob.corruptions.length);
    for (const l of rob.levels) {
      for (const c of l.cells) {
        const shown = cells.find(([k]) => k === `${l.name}/${c.key}`)![1]!;
        // The cell's text: its title, then the rounded relative accuracy (and * when more fragile).
        expect(shown.endsWith(`${Math.round(c.relative.mean * 100)}${c.moreFragileAdjusted ? '*' : ''}`), `${l.name}/${c.key}: ${shown}`).toBe(true);
      }
    }
    await page.screenshot({ path: join(SHOTS, 'robustness.png'), fullPage: true });
  });

  it('shows the subgroup table and over-indexing chart of the level with most PIEs', async () => {
    const sub = await json('/v1/runs/latest/subgroups');
    const lv = sub.levels.slice(1).reduce((a: Json, b: Json) => (b.pieCount > a.pieCount ? b : a));
    await expect.poll(() => page.locator('h3').allTextContents()).toContain(`Subgroups at ${lv.name}`);
    const rows = await page.locator('tr[data-subgroup]').evaluateAll((els) => els.map((e) => e.getAttribute('data-subgroup')));
    expect(rows).toEqual(lv.rows.map((r: Json) => r.key));
    expect(await page.locator('g[data-subgroup]').count()).toBe(lv.rows.filter((r: Json) => r.overIndex).length);
  });

  it("opens the gallery on one subgroup's PIEs from the table, and only those show", async () => {
    const sub = await json('/v1/runs/latest/subgroups');
    const lv = sub.levels.slice(1).reduce((a: Json, b: Json) => (b.pieCount > a.pieCount ? b : a));
    await page.locator('tr[data-subgroup="group=a"] a').click();
    await expect.poll(() => page.locator('#subgroup').inputValue()).toBe('group=a');
    const review = await json(`/v1/runs/latest/review?level=${lv.name}&subgroup=group%3Da&limit=24`);
    if (review.total === 0) {
      await expect.poll(() => page.locator('#view').textContent()).toMatch(/No PIEs match/);
    } else {
      await page.locator('a.tile').first().waitFor();
      const shown = await page.locator('a.tile').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-index'))));
      expect(shown).toEqual(review.items.map((x: Json) => x.index));
      expect(shown.every((i) => i % 10 === 0)).toBe(true);
    }
    await page.screenshot({ path: join(SHOTS, 'gallery-subgroup.png'), fullPage: true });
    // Back to all images through the select.
    await page.locator('#subgroup').selectOption('');
    await expect.poll(() => page.evaluate('location.hash')).not.toMatch(/subgroup/);
    expect(problems).toEqual([]);
  });
});
