/**
 * The API docs page at /docs: swagger-ui, served from this API (the page works offline and loads
 * nothing from a CDN), under a Content-Security-Policy like the web page's. The entry points hand
 * in swagger-ui-dist's bundle and styles (Node reads them from the package, the Worker bundles
 * them as text), so both serve the same pinned version.
 */
import { Hono, type Context } from 'hono';
import type { AppEnv } from '../context.ts';
import { NotFound } from '../errors.ts';

/** swagger-ui-dist's swagger-ui-bundle.js and swagger-ui.css, as text. */
export interface DocsAssets { js: string; css: string }

/** Scripts and styles from here only; swagger-ui shows data: images (its icons) and fetches the document. */
export const DOCS_CONTENT_SECURITY_POLICY = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
  "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
].join('; ');

// Relative links, so the page also works behind a path prefix.
const PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>PIE Lens API</title><meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="docs/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="docs/swagger-ui-bundle.js"></script><script src="docs/init.js"></script></body>
</html>
`;
const INIT = "window.ui = SwaggerUIBundle({ url: new URL('openapi.json', document.baseURI).href, dom_id: '#swagger-ui' });\n";

function serve(c: Context<AppEnv>, body: string | undefined, type: string, cache: string): Response {
  if (body === undefined) throw new NotFound('the docs assets are not bundled with this server');
  c.header('Content-Type', type);
  c.header('Cache-Control', cache);
  c.header('X-Content-Type-Options', 'nosniff');
  c.header('Content-Security-Policy', DOCS_CONTENT_SECURITY_POLICY);
  c.header('Referrer-Policy', 'no-referrer');
  return c.body(body, 200);
}

export const docs = new Hono<AppEnv>();
docs.get('/docs', (c) => serve(c, c.var.options.docsAssets ? PAGE : undefined, 'text/html; charset=utf-8', 'no-cache'));
docs.get('/docs/init.js', (c) => serve(c, INIT, 'text/javascript; charset=utf-8', 'no-cache'));
docs.get('/docs/swagger-ui-bundle.js', (c) => serve(c, c.var.options.docsAssets?.js, 'text/javascript; charset=utf-8', 'public, max-age=86400'));
docs.get('/docs/swagger-ui.css', (c) => serve(c, c.var.options.docsAssets?.css, 'text/css; charset=utf-8', 'public, max-age=86400'));
