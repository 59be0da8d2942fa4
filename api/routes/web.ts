/**
 * The web page: GET / and its two assets, public (the page's own API calls carry the key).
 * Everything is a string in the bundle, so Node and Workers serve it alike, with no files.
 */
import { Hono, type Context } from 'hono';
import { fnv1a32 } from '../../lib/hash.ts';
import type { AppEnv } from '../context.ts';
import { appJs } from '../web/app-js.ts';
import { renderPage } from '../web/page.ts';
import { appCss } from '../web/style.ts';

/**
 * Scripts and styles only from this origin, no inline code and no eval; images from here or
 * the blob: URLs the page makes of PNGs it fetched with the key (data: for the empty favicon).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' blob: data:", "connect-src 'self'",
  "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
].join('; ');

interface Asset { body: string; type: string; etag: string; version: string }
const asset = (body: string, type: string): Asset => {
  // Synchronous, so each asset's tag is computed once when the module loads, on either runtime.
  const version = fnv1a32(body).toString(36);
  return { body, type, etag: `"${version}"`, version };
};

const js = asset(appJs, 'text/javascript; charset=utf-8');
const css = asset(appCss, 'text/css; charset=utf-8');
// The HTML names the assets with their hash, so they can be cached for a year while the page
// itself is revalidated on every load (a 304 when nothing changed).
const html = asset(renderPage({ js: `/assets/app.js?v=${js.version}`, css: `/assets/app.css?v=${css.version}` }), 'text/html; charset=utf-8');

function serve(c: Context<AppEnv>, a: Asset, cacheControl: string): Response {
  c.header('Content-Type', a.type);
  c.header('Cache-Control', cacheControl);
  c.header('ETag', a.etag);
  c.header('X-Content-Type-Options', 'nosniff');
  c.header('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  c.header('Referrer-Policy', 'no-referrer');
  const match = c.req.header('if-none-match');
  if (match && match.split(',').some((t) => t.trim().replace(/^W\//, '') === a.etag || t.trim() === '*')) return c.body(null, 304);
  return c.body(a.body, 200);
}

export const web = new Hono<AppEnv>();

web.get('/', (c) => serve(c, html, 'no-cache'));
web.get('/assets/app.js', (c) => serve(c, js, 'public, max-age=31536000, immutable'));
web.get('/assets/app.css', (c) => serve(c, css, 'public, max-age=31536000, immutable'));
