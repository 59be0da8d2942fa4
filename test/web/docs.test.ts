/**
 * /docs in Chromium with every request off this server blocked: swagger-ui comes from the API
 * itself, renders the routes, and runs under the page's Content-Security-Policy without a violation.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startNodeServer, type NodeServer } from '../../api/node.ts';
import { launchChromium } from './chromium.ts';

let server: NodeServer;
let browser: Browser;

beforeAll(async () => {
  server = await startNodeServer({ runsDir: inject('tinyRunDir'), port: 0, env: { PIE_API_KEYS: 'docs-key' } });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('/docs', () => {
  it('works offline: swagger-ui from the API, the routes rendered, no CSP violation', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const offsite: string[] = [];
    const problems: string[] = [];
    await page.route('**/*', (route) => {
      if (route.request().url().startsWith(server.url)) return route.continue();
      offsite.push(route.request().url());
      return route.abort();
    });
    page.on('pageerror', (e) => problems.push(`script error: ${e.message}`));
    page.on('console', (m) => { if (/Content[- ]Security[- ]Policy|Refused/i.test(m.text())) problems.push(m.text()); });
    const r = await page.goto(`${server.url}/docs`);
    expect(r?.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.locator('.opblock-summary-path', { hasText: '/v1/runs/{run}/predict' }).first().waitFor({ timeout: 20_000 });
    expect(await page.locator('.opblock').count()).toBeGreaterThan(8);
    expect(offsite).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  });
});
