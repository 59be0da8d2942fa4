/**
 * The web page over the 1000-class run in Chromium: classes are picked by searching their names
 * (a search box with the browser's filtered suggestions), not from a 1000-entry list; the
 * gallery filters by a class above 255; an image's vote cards list only the classes voted for.
 */
import { mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startNodeServer, type NodeServer } from '../../api/node.ts';
import { launchChromium } from './chromium.ts';
import { WIDE_RUN } from '../wide-run.ts';

const ROOT = join(import.meta.dirname, '../..');
const SHOTS = join(ROOT, 'test-artifacts/screenshots');
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let server: NodeServer;
let browser: Browser;
const apiJson = async (path: string): Promise<Json> => {
  const r = await fetch(`${server.url}${path}`);
  expect(r.status, path).toBe(200);
  return r.json() as Promise<Json>;
};

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  server = await startNodeServer({ runsDir: inject('wideRunDir'), port: 0, env: { PIE_PUBLIC_READS: 'true' } });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('web page with 1000 classes', () => {
  it('filters the gallery by a class found by typing its name, and shows only voted classes for an image', async () => {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    const all = await apiJson(`/v1/runs/${WIDE_RUN.runId}/review?level=p90&limit=500`);
    const target = all.items.find((x: Json) => x.trueLabel.index > 255);
    const name: string = target.trueLabel.name;

    await page.goto(`${server.url}/#/gallery/p90`);
    await page.locator('a.tile').first().waitFor();
    // A search box with the names as suggestions, not a select of 1000 options.
    expect(await page.locator('#class').getAttribute('type')).toBe('search');
    expect(await page.locator('#class-names option').count()).toBe(1000);
    expect(await page.locator('select option').count()).toBeLessThan(50);

    await page.fill('#class', name);
    await page.press('#class', 'Enter');
    await page.waitForURL(new RegExp(`class=${target.trueLabel.index}(&|$)`));
    const filtered = await apiJson(`/v1/runs/${WIDE_RUN.runId}/review?level=p90&trueClass=${target.trueLabel.index}&limit=24`);
    await expect.poll(async () => (await page.locator('a.tile dd.true').allTextContents()).map((t) => t.trim()))
      .toEqual(filtered.items.map((x: Json) => name));
    expect(await page.locator('#class').inputValue()).toBe(name);
    await page.screenshot({ path: join(SHOTS, 'gallery-1000-classes.png'), fullPage: true });
    console.log(`screenshot ${relative(ROOT, join(SHOTS, 'gallery-1000-classes.png'))}: p90 PIEs of a 1000-class run filtered to ${name} by typing its name`);

    // A name that is not a class is flagged, and the filter stays.
    await page.fill('#class', 'no such class');
    await page.press('#class', 'Enter');
    expect(await page.locator('#class').evaluate((el) => (el as unknown as { validationMessage: string }).validationMessage)).toMatch(/no class named/);
    expect(page.url()).toMatch(new RegExp(`class=${target.trueLabel.index}(&|$)`));

    await page.goto(`${server.url}/#/image/${target.index}?level=p90`);
    await page.locator('section.level').first().waitFor();
    const answer = await apiJson(`/v1/runs/${WIDE_RUN.runId}/images/${target.index}`);
    const shown = new Set<number>([answer.denseModal.index, answer.trueLabel.index]);
    for (const l of answer.levels) for (const c of Object.keys(l.voteCounts)) shown.add(Number(c));
    expect(shown.size).toBeLessThan(40);
    expect(await page.locator('section.level[data-level="dense"] .votes li').count()).toBe(shown.size);
    expect(await page.locator('[data-fact="true"]').textContent()).toBe(name);
    await page.screenshot({ path: join(SHOTS, 'image-1000-classes.png'), fullPage: true });
    expect(problems).toEqual([]);
  });
});
