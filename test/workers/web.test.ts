/** The web page from inside workerd: the Worker bundle carries the page and its assets. */
import { SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { appJs } from '../../api/web/app-js.ts';

describe('web page on Workers', () => {
  it('serves the page without a key, with its Content-Security-Policy', async () => {
    const r = await SELF.fetch('https://pie.test/');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/html/);
    expect(r.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await r.text();
    expect(html).toContain('<title>PIE Lens</title>');
    expect(html).toMatch(/<script type="module" src="\/assets\/app\.js\?v=\w+">/);
  });
  it('serves the script as JavaScript and the styles as CSS, cached for a year', async () => {
    const js = await SELF.fetch('https://pie.test/assets/app.js');
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(js.headers.get('cache-control')).toMatch(/immutable/);
    // The page script built from api/web/app.ts, whole.
    const text = await js.text();
    expect(text).toBe(appJs);
    expect(text).toContain('window.addEventListener("hashchange", render)');
    const css = await SELF.fetch('https://pie.test/assets/app.css');
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
    await css.arrayBuffer();
  });
});
