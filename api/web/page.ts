/**
 * The page's HTML shell: header (views, run, API key), an alert line and the view the script
 * fills. Asset URLs carry their content hash, so they can be cached for a year and a new
 * deploy still reaches every browser at once.
 */
export function renderPage(assets: { js: string; css: string }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>PIE Lens</title>
<meta name="description" content="What compressed models forget: Pruning Identified Exemplars across populations of dense, pruned and quantized models.">
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${assets.css}">
<script type="module" src="${assets.js}"></script>
</head>
<body>
<a class="skip" href="#view" id="skip">Skip to content</a>
<header class="top">
  <h1><a href="#/overview">PIE Lens</a></h1>
  <nav aria-label="Views"><ul>
    <li><a href="#/overview" data-view="overview">Overview</a></li>
    <li><a href="#/classes" data-view="classes">Classes</a></li>
    <li><a href="#/gallery" data-view="gallery">PIE gallery</a></li>
    <li><a href="#/robustness" data-view="robustness">Robustness</a></li>
    <li><a href="#/try" data-view="try">Try an image</a></li>
    <li><a href="#/study" data-view="study">Human study</a></li>
  </ul></nav>
  <div class="controls"><label for="run">Run</label><select id="run"><option value="latest">latest</option></select></div>
  <form id="key-form" class="controls key" autocomplete="off">
    <label for="key">API key</label>
    <input id="key" name="key" type="password" autocomplete="off" spellcheck="false" placeholder="if reads need one">
    <button type="submit">Save</button>
    <button type="button" id="key-forget" class="secondary">Forget</button>
    <span id="key-state" class="muted" role="status"></span>
  </form>
</header>
<div id="alert" role="alert" hidden></div>
<main id="view" tabindex="-1"><p class="muted">Loading…</p></main>
<noscript><p>This page needs JavaScript. The API and its documentation are at <a href="/docs">/docs</a>.</p></noscript>
<footer>PIE Lens — images that compressed models forget (Hooker et al., <cite>What Do Compressed Deep Neural Networks Forget?</cite>). The JSON API: <a href="/docs">/docs</a>, <a href="/openapi.json">/openapi.json</a>.</footer>
</body>
</html>
`;
}
