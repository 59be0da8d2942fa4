/**
 * The web page as a person uses it: Debian's Chromium, driven by playwright-core, over the Node
 * API serving the tiny run. Each step asserts on what is on the page against the JSON API's own
 * answers, and saves a screenshot under test-artifacts/screenshots/.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { startNodeServer, type NodeServer } from '../../api/node.ts';
import { launchChromium } from './chromium.ts';

const KEY = 'web-test-key';
const ROOT = join(import.meta.dirname, '../..');
const SHOTS = join(ROOT, 'test-artifacts/screenshots');

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let keyed: NodeServer;
let open: NodeServer;
let browser: Browser;
let overview: Json;
const contexts: BrowserContext[] = [];

const api = async (path: string): Promise<Response> => {
  const r = await fetch(`${keyed.url}${path}`, { headers: { authorization: `Bearer ${KEY}` } });
  expect(r.status, path).toBe(200);
  return r;
};
const apiJson = async (path: string): Promise<Json> => (await api(path)).json() as Promise<Json>;

/** A fresh browser tab; problems the page itself reports (script errors, CSP violations) are collected. */
async function newPage(opts: { width?: number; height?: number; key?: string } = {}) {
  const context = await browser.newContext({ viewport: { width: opts.width ?? 1280, height: opts.height ?? 900 } });
  contexts.push(context);
  // The key as the page keeps it after Save (a string: this file is type-checked without the DOM library).
  if (opts.key) await context.addInitScript({ content: `sessionStorage.setItem('pie-lens.key', ${JSON.stringify(opts.key)})` });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`script error: ${e.message}`));
  page.on('console', (m) => { if (/Content[- ]Security[- ]Policy/i.test(m.text())) problems.push(`CSP: ${m.text()}`); });
  return { page, problems };
}

async function screenshot(page: Page, name: string, what: string, fullPage = true): Promise<void> {
  const path = join(SHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage });
  console.log(`screenshot ${relative(ROOT, path)}: ${what}`);
}

/** Waits until every image the selector matches has loaded (blob URLs made from fetched PNGs). */
const imagesLoaded = (page: Page, selector: string) =>
  expect.poll(() => page.locator(selector).evaluateAll((imgs) => imgs.length > 0 && imgs.every((i) => (i as unknown as { naturalWidth: number }).naturalWidth > 0))).toBe(true);

const text = async (page: Page, selector: string) => (await page.locator(selector).allTextContents()).map((t) => t.trim());

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  const runsDir = inject('tinyRunDir');
  keyed = await startNodeServer({ runsDir, port: 0, env: { PIE_API_KEYS: KEY } });
  open = await startNodeServer({ runsDir, port: 0, env: { PIE_PUBLIC_READS: 'true' } });
  browser = await launchChromium();
  overview = await apiJson('/v1/runs/latest');
});
afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await keyed?.close();
  await open?.close();
});

describe('web page routes', () => {
  it('serve the page and its assets publicly, with a strict CSP, ETags and long-lived asset caching', async () => {
    const page = await fetch(`${keyed.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = page.headers.get('content-security-policy') ?? '';
    for (const rule of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"]) expect(csp).toContain(rule);
    expect(csp).not.toMatch(/unsafe-(inline|eval)/);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    const html = await page.text();
    const js = /<script type="module" src="([^"]+)"/.exec(html)?.[1];
    const css = /<link rel="stylesheet" href="([^"]+)"/.exec(html)?.[1];
    expect(js).toMatch(/^\/assets\/app\.js\?v=\w+$/);
    expect(css).toMatch(/^\/assets\/app\.css\?v=\w+$/);
    expect((await fetch(`${keyed.url}/`, { headers: { 'if-none-match': page.headers.get('etag')! } })).status).toBe(304);
    for (const [path, type] of [[js!, /^text\/javascript/], [css!, /^text\/css/]] as const) {
      const r = await fetch(`${keyed.url}${path}`);
      expect(r.status, path).toBe(200);
      expect(r.headers.get('content-type')).toMatch(type);
      expect(r.headers.get('cache-control')).toMatch(/max-age=31536000, immutable/);
      expect((await fetch(`${keyed.url}${path}`, { headers: { 'if-none-match': r.headers.get('etag')! } })).status).toBe(304);
    }
    expect((await fetch(`${keyed.url}/docs`)).status).toBe(200);
    expect((await fetch(`${keyed.url}/openapi.json`)).status).toBe(200);
  });
});

describe('web page in Chromium', () => {
  let page: Page;
  let problems: string[];
  let chosen: number;
  beforeAll(async () => { ({ page, problems } = await newPage()); });

  it('asks for the API key when reads need one, then shows the overview', async () => {
    await page.goto(`${keyed.url}/`);
    await expect.poll(() => page.locator('#alert').textContent()).toMatch(/needs a key/);
    expect(await page.locator('#key:focus').count()).toBe(1);
    await screenshot(page, 'key-prompt', 'reads need a key: the 401 becomes a prompt and focus goes to the key field');

    await page.fill('#key', KEY);
    await page.press('#key', 'Enter');
    await page.locator('svg.chart').nth(2).waitFor();
    expect(await page.locator('#alert').isHidden()).toBe(true);
    expect(await page.locator('h2').textContent()).toContain(overview.runId);
    expect(await text(page, 'main tbody th')).toEqual(overview.levels.map((l: Json) => l.name));
    for (const l of overview.levels) expect(await page.locator(`td[data-pies="${l.name}"]`).textContent()).toBe(String(l.pieCount));
    expect(await page.locator('svg.chart').count()).toBe(3);
    // Every level is drawn in each chart.
    expect(await page.locator('figure').first().locator('circle.mean').count()).toBe(overview.levels.length);
    await screenshot(page, 'overview', 'run overview: accuracy (mean, ±sd, min–max) per level, PIEs per level, classes impacted ▼/▲, level table');
    expect(problems).toEqual([]);
  });

  it('the run selector lists latest, then every run id of the store', async () => {
    const runs = await apiJson('/v1/runs');
    expect(runs.runs).toContain(overview.runId);
    await expect.poll(() => page.locator('#run option').count()).toBe(1 + runs.runs.length);
    expect(await page.locator('#run option').evaluateAll((os) => os.map((o) => [o.getAttribute('value'), o.textContent]))).toEqual([
      ['latest', 'latest'], ...[...runs.runs].sort().reverse().map((id: string) => [id, id]),
    ]);
    expect(await page.locator('#run').textContent()).not.toContain('[object');
    expect(await page.locator('#run').inputValue()).toBe('latest');
  });

  it('lists the PIEs of p90 as tiles with true, dense and compressed labels, and opens one from the keyboard', async () => {
    await page.locator('tr', { has: page.locator('th', { hasText: /^p90$/ }) }).getByRole('link', { name: 'PIEs' }).click();
    await page.locator('a.tile').first().waitFor();
    const queue = await apiJson('/v1/runs/latest/review?level=p90&limit=24');
    expect(await page.locator('h2').textContent()).toBe('PIEs at p90');
    expect(await page.locator('a.tile').count()).toBe(queue.items.length);
    expect(await text(page, 'a.tile dd.true')).toEqual(queue.items.map((i: Json) => i.trueLabel.name));
    expect(await text(page, 'a.tile dd.dense')).toEqual(queue.items.map((i: Json) => i.denseModal.name));
    expect(await text(page, 'a.tile dd.lvl')).toEqual(queue.items.map((i: Json) => i.levelModal.name));
    expect(await page.locator('.pager').textContent()).toContain(`of ${Math.ceil(queue.total / 24)}`);
    // Images came through fetch with the key (an <img src> could not send it).
    await imagesLoaded(page, 'a.tile img');

    // Tab from the last control lands on the grid's one tabbable tile; arrows move through it.
    await page.focus('#sort');
    await page.keyboard.press('Tab');
    const focused = () => page.locator('a.tile:focus').getAttribute('data-index');
    expect(await focused()).toBe(String(queue.items[0].index));
    const cols = await page.locator('a.tile').evaluateAll((tiles) =>
      tiles.filter((t) => t.getBoundingClientRect().top === tiles[0].getBoundingClientRect().top).length);
    expect(cols).toBeGreaterThan(1);
    await page.keyboard.press('ArrowRight');
    expect(await focused()).toBe(String(queue.items[1].index));
    await page.keyboard.press('ArrowDown');
    chosen = queue.items[1 + cols].index;
    expect(await focused()).toBe(String(chosen));
    expect(await page.locator('a.tile[tabindex="0"]').count()).toBe(1);
    await screenshot(page, 'gallery-p90', `PIE gallery of p90, page 1: keyboard focus on image #${chosen}`);
    await page.keyboard.press('Enter');
    await page.waitForURL(new RegExp(`#/image/${chosen}\\?level=p90$`));
    expect(problems).toEqual([]);
  });

  it('shows the image with the vote distributions of every level side by side, and its class context', async () => {
    const answer = await apiJson(`/v1/runs/latest/images/${chosen}`);
    await page.locator('section.level').first().waitFor();
    expect(await page.locator('h2').textContent()).toBe(`Image #${chosen}`);
    expect(await page.locator('[data-fact="true"]').textContent()).toBe(answer.trueLabel.name);
    expect(await page.locator('[data-fact="dense"]').textContent()).toBe(answer.denseModal.name);
    expect(await text(page, '[data-fact="pie"] .badge')).toEqual(answer.pieLevels);
    expect(await page.locator('section.level').evaluateAll((els) => els.map((e) => e.getAttribute('data-level')))).toEqual(answer.levels.map((l: Json) => l.level));
    for (const l of answer.levels) {
      const card = page.locator(`section.level[data-level="${l.level}"]`);
      expect(await card.locator('.modal-label').textContent()).toBe(l.modal.name);
      const modalShare = `${Math.round((l.voteCounts[l.modal.index] / l.memberPredictions.length) * 100)}%`;
      expect(await card.locator('.votes li.modal .n').textContent()).toBe(modalShare);
      expect(await card.locator('.badge').count()).toBe(l.isPie ? 1 : 0);
    }
    const contextRows = answer.levels.reduce((n: number, l: Json) => n + l.classContext.length, 0);
    expect(contextRows).toBeGreaterThan(0);
    expect(await page.locator('table:has(caption:text("Class context")) tbody tr').count()).toBe(contextRows);
    await imagesLoaded(page, '.detail-top img');
    await screenshot(page, 'image-detail', `image #${chosen}: the image large, votes of the K models at every level (PIE levels outlined), class context table`);
    expect(problems).toEqual([]);
  });

  it('answers an uploaded image live, the same as its dataset answer', async () => {
    const answer = await apiJson(`/v1/runs/latest/images/${chosen}`);
    const dir = mkdtempSync(join(tmpdir(), 'pie-web-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, `image-${chosen}.png`);
    writeFileSync(file, new Uint8Array(await (await api(`/v1/runs/latest/images/${chosen}/image.png`)).arrayBuffer()));
    await page.getByRole('link', { name: 'Try an image' }).click();
    await page.locator('#file').waitFor({ state: 'attached' });
    await page.setInputFiles('#file', file);
    const result = page.locator('#try-result');
    await result.locator('section.level').first().waitFor();
    expect(await result.locator('[data-fact="dense"]').textContent()).toBe(answer.denseModal.name);
    expect(await text(page, '#try-result [data-fact="pie"] .badge')).toEqual(answer.pieLevels);
    expect(await text(page, '#try-result .modal-label')).toEqual(answer.levels.map((l: Json) => l.modal.name));
    await screenshot(page, 'try-an-image', `Try an image: the PNG of image #${chosen} uploaded, its live answer (same labels and votes as the dataset's)`);
    expect(problems).toEqual([]);
  });
});

describe('web page, other settings', () => {
  it('charts a human-study export: per category, PIEs vs non-PIEs with intervals, significant ones starred', async () => {
    const plan = await apiJson('/v1/runs/latest/study/tasks?level=p90&maxPies=20&seed=2');
    const exp = [];
    let pies = 0;
    for (const [k, t] of (plan.tasks as Json[]).entries()) {
      const index = Number(t.data.pie_study.split('/')[2]);
      const a = await apiJson(`/v1/runs/latest/images/${index}`);
      // Planted: incorrect ground truth on 60 % of the PIEs, none of the non-PIEs.
      const marked = a.pieLevels.includes('p90') && pies++ < 12;
      exp.push({ id: k + 1, data: t.data, annotations: [{ id: k + 1, was_cancelled: false, result: [
        { from_name: 'label', to_name: 'image', type: 'choices', value: { choices: [a.trueLabel.name] } },
        { from_name: 'categories', to_name: 'image', type: 'choices', value: { choices: [marked ? 'Incorrect or inadequate ground truth' : 'None of these'] } },
      ] }] });
    }
    const dir = mkdtempSync(join(tmpdir(), 'pie-web-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'export.json');
    writeFileSync(file, JSON.stringify(exp));
    const { page, problems } = await newPage({ key: KEY });
    await page.goto(`${keyed.url}/#/study`);
    await page.locator('#study-file').waitFor({ state: 'attached' });
    await page.setInputFiles('#study-file', file);
    await page.locator('#study-result svg.chart').waitFor();
    expect(await page.locator('#study-result svg.chart text', { hasText: 'Incorrect or inadequate ground truth *' }).count()).toBe(1);
    expect(await text(page, '#study-result tr.sig td:first-child')).toEqual(expect.arrayContaining(['Incorrect or inadequate ground truth']));
    expect(await page.locator('#study-result svg.chart circle.down').count()).toBeGreaterThan(0);
    await screenshot(page, 'human-study', 'Human study: a planted export (incorrect ground truth on 60 % of PIEs, 0 % of non-PIEs) charted per category');
    expect(problems).toEqual([]);
  });

  it('fits a 375 px phone: the gallery reflows into columns without sideways scrolling', async () => {
    const { page, problems } = await newPage({ width: 375, height: 800, key: KEY });
    await page.goto(`${keyed.url}/#/gallery/p90`);
    await page.locator('a.tile').first().waitFor();
    await imagesLoaded(page, 'a.tile img');
    expect(await page.locator('html').evaluate((el) => el.scrollWidth)).toBeLessThanOrEqual(375);
    const cols = await page.locator('.grid').evaluate((el) => el.ownerDocument.defaultView!.getComputedStyle(el).gridTemplateColumns.split(' ').length);
    expect(cols).toBe(2);
    await page.locator('h2').evaluate((el) => el.scrollIntoView());
    await screenshot(page, 'gallery-phone', 'PIE gallery at 375×800 (phone width), scrolled to its heading: stacked controls, two columns of tiles', false);
    expect(problems).toEqual([]);
  });

  it('works without a key when reads are public', async () => {
    const { page, problems } = await newPage();
    const statuses: number[] = [];
    page.on('response', (r) => statuses.push(r.status()));
    await page.goto(`${open.url}/#/classes/p90`);
    await page.locator('svg.chart').waitFor();
    expect(await page.locator('main tbody tr').count()).toBe(overview.dataset.numClasses);
    expect(await page.locator('#alert').isHidden()).toBe(true);
    expect(statuses).not.toContain(401);
    await screenshot(page, 'classes-public', 'public reads, no key: per-class normalized recall change at p90, significant classes starred');
    expect(problems).toEqual([]);
  });

  it('weighs little: the bytes transferred to show the overview', async () => {
    const { page, problems } = await newPage({ key: KEY });
    const sizes: { url: string; type: string; body: number; headers: number }[] = [];
    page.on('requestfinished', async (req) => {
      const s = await req.sizes();
      const type = (await req.response())?.headers()['content-type']?.split(';')[0] ?? '?';
      sizes.push({ url: new URL(req.url()).pathname, type, body: s.responseBodySize, headers: s.responseHeadersSize });
    });
    await page.goto(`${keyed.url}/`);
    await page.locator('svg.chart').nth(2).waitFor();
    await page.waitForLoadState('networkidle');
    const byType = new Map<string, number>();
    for (const s of sizes) byType.set(s.type, (byType.get(s.type) ?? 0) + s.body + s.headers);
    const total = [...byType.values()].reduce((a, b) => a + b, 0);
    console.log(`overview page weight: ${total} bytes in ${sizes.length} responses (bodies + headers, uncompressed) — ` +
      [...byType].map(([t, n]) => `${t} ${n}`).join(', ') + '\n' + sizes.map((s) => `  ${s.url} ${s.type} ${s.body} + ${s.headers} header bytes`).join('\n'));
    expect(sizes.map((s) => s.url)).toEqual(expect.arrayContaining(['/', '/assets/app.js', '/assets/app.css', '/v1/runs/latest']));
    expect(total).toBeLessThan(120_000);
    expect(problems).toEqual([]);
  });
});
