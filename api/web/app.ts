/**
 * The page's script (browser TypeScript, DOM lib), served as /assets/app.js. scripts/build-web.ts
 * strips the types with esbuild into api/web/app-js.ts, the string module that api/routes/web.ts
 * serves on Node and Workers alike; `npm test` type-checks this file (api/web/tsconfig.json) and
 * checks that the generated module is current. DOM built with createElement, never innerHTML, so
 * class names and messages from the API are always text.
 *
 * Charts are hand-written SVG rather than a chart library: four chart kinds fit in a few KB,
 * need no bundler, and draw with attributes only, so the strict CSP (no inline styles or
 * scripts, no eval) holds.
 */
import type { z } from '@hono/zod-openapi';
import type { ClassesSchema, ImageAnswerSchema, OverviewSchema, ReviewPageSchema, RobustnessSchema, SubgroupsSchema } from '../schemas.ts';

// The API's answers, as its own schemas define them (types only: nothing of them reaches the browser).
type Overview = z.infer<typeof OverviewSchema>;
type Level = Overview['levels'][number];
type Classes = z.infer<typeof ClassesSchema>;
type ClassRow = Classes['levels'][number]['classes'][number];
type ReviewPage = z.infer<typeof ReviewPageSchema>;
type Answer = z.infer<typeof ImageAnswerSchema>;
type Robustness = z.infer<typeof RobustnessSchema>;
type Subgroups = z.infer<typeof SubgroupsSchema>;
interface RunList { latest: string | null; runs: string[] }
interface Preprocessing {
  format?: string; source?: { width: number; height: number }; target?: { width: number; height: number }; inverted?: boolean; resample?: string;
}
interface Route { name: string; arg: string | undefined; params: URLSearchParams }

const KEY = 'pie-lens.key', RUN = 'pie-lens.run', PAGE = 24;
const byId = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const view = byId('view'), alertBox = byId('alert'), keyForm = byId<HTMLFormElement>('key-form'), keyInput = byId<HTMLInputElement>('key'), keyState = byId('key-state'), runSelect = byId<HTMLSelectElement>('run');
const enc = encodeURIComponent;

// ---- DOM helpers -------------------------------------------------------------------------
/** Attributes to set; `on…` keys are event listeners; null, undefined and false are left out. */
interface Attrs {
  [name: string]: unknown;
  onchange?: (e: Event & { target: HTMLSelectElement }) => void;
  onkeydown?: (e: KeyboardEvent & { currentTarget: HTMLElement }) => void;
  onsubmit?: (e: SubmitEvent) => void;
}
/** What an element's children can be: nodes, text, numbers, nested lists; null/undefined/false are skipped. */
type Kid = Node | string | number | boolean | null | undefined | readonly Kid[];

function setAttrs(el: Element, attrs: Attrs | null | undefined) {
  for (const k in attrs || {}) {
    const v = attrs![k];
    if (v == null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v as EventListener);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}
function add<E extends ParentNode>(el: E, kids: readonly Kid[]): E {
  for (const k of (kids as Kid[]).flat(Infinity as 1) as Kid[]) if (k != null && k !== false) el.append(k instanceof Node ? k : String(k));
  return el;
}
function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs | null, ...kids: Kid[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag); setAttrs(el, attrs); return add(el, kids);
}
function s<K extends keyof SVGElementTagNameMap>(tag: K, attrs?: Attrs | null, ...kids: Kid[]): SVGElementTagNameMap[K] {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag); setAttrs(el, attrs); return add(el, kids);
}
/** Above this many classes a class is picked by typing (a search box over the names), not from one long list. */
const SEARCH_ABOVE_CLASSES = 50;
/**
 * A class picker whose value is a class index as a string ('' = none). A few classes: a select.
 * Many (ImageNet's 1000): a search box whose suggestions the browser filters as one types
 * (a datalist of the names); a name, or #index, picks the class, and anything else is flagged.
 */
function classPicker(names: string[], id: string, selected: string, emptyLabel: string, onPick: (value: string) => void): { el: HTMLElement; value: () => string } {
  if (names.length <= SEARCH_ABOVE_CLASSES) {
    const select = h('select', { id, onchange: (e) => onPick(e.target.value) },
      h('option', { value: '' }, emptyLabel), names.map((n, i) => h('option', { value: String(i), selected: String(i) === selected }, n)));
    return { el: select, value: () => select.value };
  }
  let current = selected;
  const input = h('input', {
    id, type: 'search', list: id + '-names', autocomplete: 'off', spellcheck: 'false', class: 'class-search',
    placeholder: emptyLabel + ' — type to search ' + names.length + ' classes', value: selected !== '' ? names[Number(selected)] ?? '' : '',
  });
  const lower = names.map((n) => n.toLowerCase());
  const resolve = (text: string): string | null => {
    const t = text.trim().toLowerCase();
    if (!t) return '';
    const i = lower.indexOf(t);
    if (i >= 0) return String(i);
    const m = /^#(\d+)$/.exec(t);
    return m && Number(m[1]) < names.length ? m[1] : null;
  };
  input.addEventListener('change', () => {
    const v = resolve(input.value);
    if (v === null) { input.setCustomValidity('no class named “' + input.value.trim() + '”: pick one of the suggestions'); input.reportValidity(); return; }
    input.setCustomValidity('');
    current = v;
    onPick(v);
  });
  const el = h('span', { class: 'class-picker' }, input, h('datalist', { id: id + '-names' }, names.map((n) => h('option', { value: n }))));
  return { el, value: () => current };
}

function bar(frac: number, cls?: string) {
  const fill = h('span', { class: 'fill' + (cls ? ' ' + cls : '') });
  fill.style.width = (Math.max(0, Math.min(1, frac)) * 100).toFixed(1) + '%'; // CSSOM, which the CSP allows
  return h('span', { class: 'track', 'aria-hidden': 'true' }, fill);
}

// ---- numbers -----------------------------------------------------------------------------
type Num = number | null | undefined;
const pct = (x: Num, d?: number) => x == null ? '—' : (x * 100).toFixed(d == null ? 1 : d) + '%';
const signed = (x: Num, d?: number) => x == null ? '—' : (x > 0 ? '+' : x < 0 ? '−' : '±') + Math.abs(x).toFixed(d == null ? 1 : d);
const pp = (x: Num) => x == null ? '—' : signed(x * 100) + ' pp';
const pval = (p: Num) => p == null ? '—' : p === 0 ? '0' : p < 0.001 ? p.toExponential(1) : p.toFixed(3);
const num = (x: Num, d: number) => x == null ? '—' : x.toFixed(d).replace('-', '−');

// ---- API ---------------------------------------------------------------------------------
class HttpError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) { super(message); }
}
const storedKey = () => sessionStorage.getItem(KEY) || '';
async function api(path: string, init?: RequestInit) {
  const headers = new Headers((init && init.headers) || {});
  const key = storedKey();
  if (key) headers.set('authorization', 'Bearer ' + key);
  const r = await fetch(path, Object.assign({}, init, { headers }));
  if (!r.ok) {
    let code = 'http_' + r.status, message = 'HTTP ' + r.status;
    try { const b = await r.json(); code = b.error.code; message = b.error.message; } catch (e) { /* not our JSON */ }
    throw new HttpError(r.status, code, message);
  }
  return r;
}
// Responses of one key and run, kept for the tab's life: run data never changes under a run id.
let cache = new Map<string, Promise<unknown>>(), images = new Map<string, Promise<string>>();
function getJson<T>(path: string): Promise<T> {
  if (!cache.has(path)) cache.set(path, api(path).then((r) => r.json()).catch((e) => { cache.delete(path); throw e; }));
  return cache.get(path) as Promise<T>;
}
function forget() {
  for (const u of images.values()) u.then((x) => URL.revokeObjectURL(x), () => {});
  cache = new Map(); images = new Map(); cursors.clear(); runsLoaded = false;
}
// An <img src> cannot send the key: fetch the PNG with it and show a blob URL.
function imageUrl(path: string): Promise<string> {
  if (!images.has(path)) images.set(path, api(path).then((r) => r.blob()).then((b) => URL.createObjectURL(b)).catch((e) => { images.delete(path); throw e; }));
  return images.get(path)!;
}

// ---- run context -------------------------------------------------------------------------
let runsLoaded = false;
async function overview(): Promise<Overview> {
  const chosen = sessionStorage.getItem(RUN);
  let ov: Overview;
  try {
    ov = await getJson<Overview>('/v1/runs/' + enc(chosen || 'latest'));
  } catch (e) {
    // A run chosen earlier in this tab may since have been deleted: fall back to the latest.
    if (!(chosen && e instanceof HttpError && e.status === 404)) throw e;
    sessionStorage.removeItem(RUN);
    ov = await getJson<Overview>('/v1/runs/latest');
  }
  if (!runsLoaded) { runsLoaded = true; loadRuns(ov.runId); }
  return ov;
}
async function loadRuns(current: string) {
  try {
    const list = await getJson<RunList>('/v1/runs');
    const chosen = sessionStorage.getItem(RUN) || 'latest';
    runSelect.replaceChildren(
      h('option', { value: 'latest', title: list.latest || '' }, 'latest'),
      ...list.runs.filter((id) => id !== 'latest').sort().reverse().map((id) => h('option', { value: id }, id)));
    runSelect.value = list.runs.includes(chosen) ? chosen : 'latest';
  } catch (e) { runsLoaded = false; }
}
const runBase = (ov: Overview) => '/v1/runs/' + enc(ov.runId);
const levelByName = (ov: Overview, name: string | null | undefined) => ov.levels.find((l) => l.name === name);
function defaultLevel(ov: Overview): Level {
  const pruned = ov.levels.filter((l) => l.kind === 'pruned').sort((a, b) => b.sparsity - a.sparsity);
  return pruned[0] || ov.levels.find((l) => l.kind !== 'dense') || ov.levels[0];
}
function describeLevel(l: { kind: string; sparsity: number; quantization?: string; format?: string }) {
  if (l.kind === 'pruned') return 'pruned to ' + Math.round(l.sparsity * 100) + '% sparsity';
  if (l.kind === 'quantized') return 'quantized: ' + (l.quantization || l.format);
  return 'dense baseline';
}
const pngPath = (ov: Overview, i: number) => runBase(ov) + '/images/' + i + '/image.png';
function pixelImage(ov: Overview, i: number, alt: string, cls?: string) {
  const img = h('img', { alt, class: 'px' + (cls ? ' ' + cls : ''), width: 28, height: 28, decoding: 'async' });
  imageUrl(pngPath(ov, i)).then((u) => { img.src = u; }, () => { img.alt = alt + ' (could not load)'; });
  return img;
}

// ---- messages ----------------------------------------------------------------------------
function say(text: string) { alertBox.textContent = text; alertBox.hidden = !text; }
function needKey() {
  keyForm.classList.add('wanted');
  say(storedKey()
    ? 'The API refused the saved key. Enter a valid API key in the “API key” field above and press Save.'
    : 'This API needs a key to read runs. Enter your API key in the “API key” field above and press Save.');
  keyInput.focus();
}
function showError(err: Error) {
  if (err instanceof HttpError && err.status === 401) needKey();
  else say(err instanceof HttpError ? 'The API answered ' + err.status + ' (' + err.code + '): ' + err.message : 'Something went wrong: ' + err.message);
}

// ---- charts (SVG) ------------------------------------------------------------------------
function niceTicks(lo: number, hi: number, count: number): number[] {
  const span = hi - lo || 1, raw = span / count, mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((st) => span / st <= count) || 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push(Math.round(v / step) * step);
  return out;
}
function svgChart(w: number, hgt: number, label: string) {
  const svg = s('svg', { class: 'chart', viewBox: '0 0 ' + w + ' ' + hgt, role: 'img', 'aria-label': label }, s('title', {}, label));
  svg.style.maxWidth = Math.round(w * 1.4) + 'px'; // text stays near its drawn size on wide screens
  return svg;
}
// A band per level along x: centres and width, with the level names under the axis (slanted when crowded).
function levelAxis(svg: SVGSVGElement, names: string[], x0: number, x1: number, y: number) {
  const bw = (x1 - x0) / names.length, slant = names.some((n) => n.length * 6.3 > bw - 4);
  const g = s('g', { class: 'axis' });
  names.forEach((n, i) => {
    const cx = x0 + bw * (i + 0.5);
    g.append(slant
      ? s('text', { x: cx, y: y + 12, 'text-anchor': 'end', transform: 'rotate(-35 ' + cx + ' ' + (y + 12) + ')' }, n)
      : s('text', { x: cx, y: y + 14, 'text-anchor': 'middle' }, n));
  });
  svg.append(g);
  return { bw, cx: (i: number) => x0 + bw * (i + 0.5) };
}
function yAxis(svg: SVGSVGElement, ticks: number[], y: (v: number) => number, x0: number, x1: number, fmt: (t: number) => string) {
  const g = s('g', { class: 'axis' });
  for (const t of ticks) {
    g.append(s('line', { class: 'grid', x1: x0, x2: x1, y1: y(t), y2: y(t) }));
    g.append(s('text', { x: x0 - 5, y: y(t) + 4, 'text-anchor': 'end' }, fmt(t)));
  }
  svg.append(g);
}
function figure(title: string, caption: string, chart: Element, legend?: Element) {
  return h('figure', {}, h('h3', {}, title), h('figcaption', {}, caption), chart, legend || null);
}
function legend(items: [string, string][]) {
  return h('ul', { class: 'legend' }, items.map(([cls, text]) => h('li', {}, h('span', { class: 'swatch ' + cls }), text)));
}

// Accuracy: mean (dot), ± 1 sd (box), min–max over members (whisker), dense mean (dashed). Dots,
// not bars, because the axis starts near the lowest member when accuracies sit close together.
function accuracyChart(ov: Overview) {
  const W = 360, H = 230, L = 42, R = 8, T = 10, B = 50, lv = ov.levels;
  const lowest = Math.min(...lv.map((l) => l.accuracy.min));
  const lo = Math.max(0, Math.floor((lowest - 0.05) * 10) / 10), hi = 1;
  const y = (v: number) => T + (H - T - B) * (hi - v) / (hi - lo);
  const svg = svgChart(W, H, 'Top-1 accuracy per level: mean, ± 1 sd and min–max over members');
  yAxis(svg, niceTicks(lo, hi, 5), y, L, W - R, (t) => Math.round(t * 100) + '%');
  const ax = levelAxis(svg, lv.map((l) => l.name), L, W - R, H - B);
  svg.append(s('line', { class: 'ref', x1: L, x2: W - R, y1: y(lv[0].accuracy.mean), y2: y(lv[0].accuracy.mean) }));
  lv.forEach((l, i) => {
    const a = l.accuracy, cx = ax.cx(i), sd = a.sd || 0, half = Math.min(12, ax.bw / 4);
    svg.append(s('g', {},
      s('title', {}, l.name + ': ' + pct(a.mean) + ' ± ' + pct(sd) + ' (min ' + pct(a.min) + ', max ' + pct(a.max) + ')'),
      s('line', { class: 'range', x1: cx, x2: cx, y1: y(a.max), y2: y(a.min) }),
      s('line', { class: 'range', x1: cx - half / 2, x2: cx + half / 2, y1: y(a.max), y2: y(a.max) }),
      s('line', { class: 'range', x1: cx - half / 2, x2: cx + half / 2, y1: y(a.min), y2: y(a.min) }),
      s('rect', { class: 'sd', x: cx - half, width: 2 * half, y: y(Math.min(hi, a.mean + sd)), height: Math.max(1, y(Math.max(lo, a.mean - sd)) - y(Math.min(hi, a.mean + sd))) }),
      s('circle', { class: 'mean', cx, cy: y(a.mean), r: 3.5 })));
  });
  return svg;
}
function countChart(ov: Overview) {
  const W = 360, H = 230, L = 42, R = 8, T = 16, B = 50, lv = ov.levels;
  const max = Math.max(1, ...lv.map((l) => l.pieCount)), ticks = niceTicks(0, max, 4), top = Math.max(max, ticks[ticks.length - 1]);
  const y = (v: number) => T + (H - T - B) * (1 - v / top);
  const svg = svgChart(W, H, 'Number of PIEs per level');
  yAxis(svg, ticks, y, L, W - R, (t) => String(t));
  const ax = levelAxis(svg, lv.map((l) => l.name), L, W - R, H - B);
  lv.forEach((l, i) => {
    const cx = ax.cx(i), bw = Math.min(34, ax.bw * 0.65);
    svg.append(s('g', {},
      s('title', {}, l.name + ': ' + l.pieCount + ' PIEs'),
      s('rect', { class: 'bar', x: cx - bw / 2, width: bw, y: y(l.pieCount), height: y(0) - y(l.pieCount) }),
      s('text', { x: cx, y: y(l.pieCount) - 4, 'text-anchor': 'middle' }, String(l.pieCount))));
  });
  svg.append(s('line', { class: 'baseline', x1: L, x2: W - R, y1: y(0), y2: y(0) }));
  return svg;
}
// Classes impacted: relative increases above zero, decreases below.
function impactChart(ov: Overview) {
  const W = 360, H = 230, L = 42, R = 8, T = 16, B = 50, lv = ov.levels;
  const max = Math.max(1, ...lv.map((l) => Math.max(l.impacted.down, l.impacted.up)));
  const ticks = niceTicks(0, max, 3), top = Math.max(max, ticks[ticks.length - 1]);
  const y = (v: number) => T + (H - T - B) * (top - v) / (2 * top);
  const svg = svgChart(W, H, 'Classes significantly impacted per level: increases above zero, decreases below');
  yAxis(svg, [...ticks.slice(1).map((t) => -t).reverse(), ...ticks], y, L, W - R, (t) => t < 0 ? '▼' + -t : t > 0 ? '▲' + t : '0');
  const ax = levelAxis(svg, lv.map((l) => l.name), L, W - R, H - B);
  lv.forEach((l, i) => {
    const cx = ax.cx(i), bw = Math.min(34, ax.bw * 0.65), up = l.impacted.up, down = l.impacted.down;
    svg.append(s('g', {},
      s('title', {}, l.name + ': ' + down + ' classes down, ' + up + ' up (BH: ' + l.impacted.downAdjusted + ' down, ' + l.impacted.upAdjusted + ' up)'),
      s('rect', { class: 'up', x: cx - bw / 2, width: bw, y: y(up), height: y(0) - y(up) }),
      s('rect', { class: 'down', x: cx - bw / 2, width: bw, y: y(0), height: y(-down) - y(0) }),
      up ? s('text', { x: cx, y: y(up) - 3, 'text-anchor': 'middle' }, String(up)) : null,
      down ? s('text', { x: cx, y: y(-down) + 11, 'text-anchor': 'middle' }, String(down)) : null));
  });
  svg.append(s('line', { class: 'zero', x1: L, x2: W - R, y1: y(0), y2: y(0) }));
  return svg;
}
// The paper's per-class figure: normalized recall change per class, significant ones in colour and starred.
function classChart(rows: ClassRow[], level: string) {
  const row = 20, W = 460, L = 96, R = 78, T = 8, B = 24, H = T + B + row * rows.length;
  const ext = Math.max(0.01, ...rows.map((r) => Math.abs(r.normalizedChange || 0)));
  const ticks = niceTicks(-ext, ext, 4), lo = Math.min(-ext, ticks[0]), hi = Math.max(ext, ticks[ticks.length - 1]);
  const x = (v: number) => L + (W - L - R) * (v - lo) / (hi - lo);
  const svg = svgChart(W, H, 'Normalized recall change per class at ' + level + '; significant classes starred');
  const g = s('g', { class: 'axis' });
  for (const t of ticks) {
    g.append(s('line', { class: 'grid', x1: x(t), x2: x(t), y1: T, y2: H - B }));
    g.append(s('text', { x: x(t), y: H - B + 14, 'text-anchor': 'middle' }, signed(t * 100, Math.abs(hi - lo) < 0.1 ? 1 : 0)));
  }
  svg.append(g);
  rows.forEach((r, i) => {
    const v = r.normalizedChange || 0, yy = T + i * row, cls = r.significant ? r.direction : 'ns';
    svg.append(s('g', {},
      s('title', {}, r.name + ': ' + pp(r.normalizedChange) + ', p = ' + pval(r.p) + (r.significant ? ' (significant)' : '')),
      s('text', { x: L - 6, y: yy + 14, 'text-anchor': 'end' }, r.name.length > 15 ? r.name.slice(0, 14) + '…' : r.name),
      s('rect', { class: cls, x: Math.min(x(0), x(v)), width: Math.max(1, Math.abs(x(v) - x(0))), y: yy + 4, height: row - 8 }),
      s('text', { x: W - R + 6, y: yy + 14, class: r.significant ? 'sig-mark' : '' }, pp(r.normalizedChange) + (r.significant ? ' *' : ''))));
  });
  svg.append(s('line', { class: 'zero', x1: x(0), x2: x(0), y1: T, y2: H - B }));
  return svg;
}

// ---- views -------------------------------------------------------------------------------
function heading(...kids: Kid[]) { return h('h2', { tabindex: -1 }, kids); }
// textCols: the columns of words (left-aligned); numbers align right.
function table(head: string[], rows: Kid[], caption: string, textCols: number[]) {
  return h('div', { class: 'scroll' }, h('table', {},
    caption ? h('caption', { class: 'vh' }, caption) : null,
    h('thead', {}, h('tr', {}, head.map((c, i) => h('th', { scope: 'col', class: i === 0 || textCols.includes(i) ? 'text' : null }, c)))),
    h('tbody', {}, rows)));
}
function levelSelect(ov: Overview, current: string, href: (level: string) => string, label?: string) {
  const options = ov.levels.filter((l) => l.kind !== 'dense').map((l) => h('option', { value: l.name, selected: l.name === current }, l.name + ' — ' + describeLevel(l)));
  return h('div', {}, h('label', { for: 'level' }, label || 'Level'),
    h('select', { id: 'level', onchange: (e) => { location.hash = href(e.target.value); } }, options));
}

async function viewOverview() {
  const ov = await overview();
  const created = new Date(ov.createdAt);
  const rows = ov.levels.map((l) => h('tr', {},
    h('th', { scope: 'row' }, l.name),
    h('td', { class: 'text' }, describeLevel(l)),
    h('td', {}, pct(l.accuracy.mean) + ' ± ' + pct(l.accuracy.sd)),
    h('td', {}, pct(l.accuracy.min) + '–' + pct(l.accuracy.max)),
    h('td', { 'data-pies': l.name }, String(l.pieCount)),
    h('td', {}, l.impacted.down + ' ▼ / ' + l.impacted.up + ' ▲'),
    h('td', {}, l.impacted.downAdjusted + ' / ' + l.impacted.upAdjusted),
    h('td', {}, pct(l.pieAccuracy.densePie)),
    h('td', {}, pct(l.pieAccuracy.levelPie)),
    h('td', { class: 'text' }, l.kind === 'dense' ? '' : [h('a', { href: '#/classes/' + enc(l.name) }, 'classes'), ' · ', h('a', { href: '#/gallery/' + enc(l.name) }, 'PIEs')])));
  return [
    heading('Run ', h('code', {}, ov.runId)),
    h('p', { class: 'meta' }, ov.dataset.name + ': ' + ov.dataset.testSize + ' test images, ' + ov.dataset.numClasses + ' classes, ' +
      ov.dataset.inputShape[1] + '×' + ov.dataset.inputShape[0] + (ov.dataset.inputShape[2] === 3 ? ' colour' : ' grayscale') + ' · ' +
      ov.architecture.name + ' · K = ' + ov.K + ' models per level · ' + (isNaN(created.getTime()) ? ov.createdAt : created.toLocaleString())),
    h('div', { class: 'charts' },
      figure('Accuracy per level', 'Top-1 over the K members: dot = mean, box = ± 1 sd, whisker = min–max; dashed = dense mean.', accuracyChart(ov)),
      figure('PIEs per level', 'Images whose modal label at the level differs from the dense population’s.', countChart(ov)),
      figure('Classes significantly impacted', 'Welch t-test, p ≤ ' + ov.alpha + ' uncorrected (as in the paper); BH-adjusted counts in the table.', impactChart(ov),
        legend([['down', '▼ relative decrease'], ['up', '▲ relative increase']]))),
    h('h3', {}, 'Levels'),
    table(['Level', 'Compression', 'Accuracy', 'Min–max', 'PIEs', 'Classes ▼/▲', 'BH ▼/▲', 'Dense on PIEs', 'Level on PIEs', ''], rows, 'Per-level summary', [1, 9]),
  ];
}

async function viewClasses(route: Route) {
  const ov = await overview();
  const level = levelByName(ov, route.arg) || defaultLevel(ov);
  const data = await getJson<Classes>(runBase(ov) + '/classes?level=' + enc(level.name));
  const lv = data.levels[0], rows = lv.classes;
  return [
    heading('Classes at ', level.name),
    h('div', { class: 'toolbar' }, levelSelect(ov, level.name, (n) => '#/classes/' + enc(n))),
    h('p', { class: 'meta' }, 'Normalized recall change: the class’s recall change minus the overall accuracy change, dense → ' + level.name +
      ' (' + describeLevel(level) + '). Significant: Welch t-test p ≤ ' + data.alpha + ' (' + lv.impacted.down + ' ▼, ' + lv.impacted.up + ' ▲; with Benjamini–Hochberg ' +
      lv.impacted.downAdjusted + ' ▼, ' + lv.impacted.upAdjusted + ' ▲).'),
    figure('Normalized recall change per class (percentage points)', 'Coloured and starred: significant; grey: not.', classChart(rows, level.name),
      legend([['down', '▼ significantly worse than overall'], ['up', '▲ significantly better'], ['ns', 'not significant']])),
    table(['Class', 'Dense recall', level.name + ' recall', 'Normalized change', 't', 'df', 'p', 'BH p', 'Significant', ''], rows.map((r) => h('tr', {},
      h('th', { scope: 'row' }, r.name),
      h('td', {}, pct(r.meanRecallDense)), h('td', {}, pct(r.meanRecallLevel)),
      h('td', { class: r.significant ? r.direction : null }, pp(r.normalizedChange)),
      h('td', {}, num(r.t, 2)), h('td', {}, num(r.df, 1)), h('td', {}, pval(r.p)), h('td', {}, pval(r.pAdjusted)),
      h('td', { class: 'text' }, r.significant ? (r.direction === 'down' ? '▼ yes' : '▲ yes') + (r.significantAdjusted ? '' : ' (not after BH)') : 'no'),
      h('td', { class: 'text' }, h('a', { href: '#/gallery/' + enc(level.name) + '?class=' + r.index }, 'PIEs')))), 'Per-class tests', [8, 9]),
  ];
}

// Review pages are cursor-linked; remember each page's cursor per query so a page number in the URL works.
const cursors = new Map<string, (string | null)[]>();
async function reviewPage(base: string, query: string, page: number) {
  const key = base + '?' + query;
  if (!cursors.has(key)) cursors.set(key, [null]);
  const known = cursors.get(key)!;
  let k = Math.min(page, known.length) - 1;
  for (;;) {
    const data = await getJson<ReviewPage>(base + '/review?' + query + (known[k] ? '&cursor=' + enc(known[k]!) : ''));
    if (data.nextCursor) known[k + 1] = data.nextCursor;
    if (k >= page - 1 || !data.nextCursor) return { data, page: k + 1 };
    k++;
  }
}
let lastImage: number | null = null;
const FILTERS: Record<string, string> = { true: 'trueClass', dense: 'denseModal', level: 'levelModal' };
async function viewGallery(route: Route) {
  const ov = await overview();
  const level = levelByName(ov, route.arg) || defaultLevel(ov);
  const p = route.params, cls = p.get('class') || '', by = FILTERS[p.get('by')!] ? p.get('by')! : 'true';
  const sort = ['taxicab', 'dense-disagreement', 'index'].includes(p.get('sort')!) ? p.get('sort')! : 'taxicab';
  const query = new URLSearchParams({ level: level.name, sort, limit: String(PAGE) });
  if (cls !== '') query.set(FILTERS[by], cls);
  const subgroup = p.get('subgroup') || '';
  if (subgroup) query.set('subgroup', subgroup);
  const groups = await subgroupsOrNull(ov);
  const { data, page } = await reviewPage(runBase(ov), query.toString(), Math.max(1, parseInt(p.get('page')!, 10) || 1));
  const pages = Math.max(1, Math.ceil(data.total / PAGE));
  // The gallery's address for these settings with some changed; defaults are left out.
  const href = (changes: Record<string, string>, lvl?: string) => {
    const q = new URLSearchParams({ class: cls, by, sort, subgroup, page: String(page) });
    for (const k in changes) q.set(k, changes[k]);
    const defaults: Record<string, string> = { class: '', by: 'true', sort: 'taxicab', subgroup: '', page: '1' };
    for (const k in defaults) if (q.get(k) === defaults[k]) q.delete(k);
    const qs = q.toString();
    return '#/gallery/' + enc(lvl || level.name) + (qs ? '?' + qs : '');
  };
  const go = (changes: Record<string, string>) => { location.hash = href(Object.assign({ page: '1' }, changes)); };
  const names = ov.dataset.classNames;
  const controls = h('div', { class: 'toolbar' },
    levelSelect(ov, level.name, (n) => href({ page: '1' }, n)),
    h('div', {}, h('label', { for: 'class' }, 'Class'), classPicker(names, 'class', cls, 'all classes', (v) => go({ class: v })).el),
    h('div', {}, h('label', { for: 'by' }, 'Class is the'), h('select', { id: 'by', onchange: (e) => go({ by: e.target.value }) },
      ([['true', 'true label'], ['dense', 'dense modal label'], ['level', level.name + ' modal label']] as const).map(([v, t]) => h('option', { value: v, selected: v === by }, t)))),
    h('div', {}, h('label', { for: 'sort' }, 'Sort by'), h('select', { id: 'sort', onchange: (e) => go({ sort: e.target.value }) },
      ([['taxicab', 'taxicab score (most changed votes)'], ['dense-disagreement', 'dense disagreement'], ['index', 'image index']] as const).map(([v, t]) => h('option', { value: v, selected: v === sort }, t)))),
    groups ? h('div', {}, h('label', { for: 'subgroup' }, 'Subgroup'), h('select', { id: 'subgroup', onchange: (e) => go({ subgroup: e.target.value }) },
      h('option', { value: '' }, 'all images'), groups.subgroups.map((g) => h('option', { value: g.key, selected: g.key === subgroup }, g.key + ' (' + g.size + ')')))) : null);
  const out: Kid[] = [
    heading('PIEs at ', level.name),
    h('p', { class: 'meta' }, data.total + ' images' + (subgroup ? ' of subgroup ' + subgroup : '') + ' whose ' + level.name + ' modal label differs from the dense one (' + describeLevel(level) + ', K = ' + ov.K + '). Arrow keys move through the grid; Enter opens an image.'),
    controls,
  ];
  if (!data.items.length) return out.concat(h('p', {}, 'No PIEs match at this level.'));
  const tiles = data.items.map((it, n) => {
    const levelRow = h('div', { class: 'mini' }, h('span', {}, level.name), bar(0, 'lvl'), h('span', { class: 'n' }, '…'));
    const denseShare = 1 - it.denseDisagreement;
    const a = h('a', {
      class: 'tile', href: '#/image/' + it.index + '?level=' + enc(level.name), tabindex: n === 0 ? 0 : -1, 'data-index': it.index,
      'aria-label': 'Image ' + it.index + ': true ' + it.trueLabel.name + ', dense ' + it.denseModal.name + ', ' + level.name + ' ' + it.levelModal.name + ', taxicab ' + it.taxicab.toFixed(2),
    },
      pixelImage(ov, it.index, 'Image ' + it.index),
      h('div', { class: 'tile-head' }, h('span', {}, '#' + it.index), h('span', {}, 'taxicab ' + it.taxicab.toFixed(2))),
      h('dl', { class: 'labels' },
        h('dt', {}, 'true'), h('dd', { class: 'true' }, it.trueLabel.name),
        h('dt', {}, 'dense'), h('dd', { class: 'dense' }, it.denseModal.name),
        h('dt', {}, level.name), h('dd', { class: 'lvl changed' }, it.levelModal.name),
        h('div', { class: 'mini' }, h('span', {}, 'dense'), bar(denseShare), h('span', { class: 'n' }, pct(denseShare, 0))),
        levelRow));
    // The level's vote share for its modal label is in the image's answer, fetched after the grid shows.
    getJson<Answer>(runBase(ov) + '/images/' + it.index).then((ans) => {
      const share = voteShare(ans.levels.find((l) => l.level === level.name)!, it.levelModal.index);
      levelRow.replaceChildren(h('span', {}, level.name), bar(share, 'lvl'), h('span', { class: 'n' }, pct(share, 0)));
    }, () => {});
    return h('li', {}, a);
  });
  const grid = h('ul', { class: 'grid', 'aria-label': 'PIEs at ' + level.name + ', page ' + page + ' of ' + pages, onkeydown: gridKeys }, tiles);
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages' },
    page > 1 ? h('a', { href: href({ page: String(page - 1) }), rel: 'prev' }, '← Previous') : h('span', { class: 'off', 'aria-disabled': 'true' }, '← Previous'),
    h('span', { 'aria-current': 'page' }, 'Page ' + page + ' of ' + pages),
    page < pages ? h('a', { href: href({ page: String(page + 1) }), rel: 'next' }, 'Next →') : h('span', { class: 'off', 'aria-disabled': 'true' }, 'Next →'));
  const back = lastImage == null ? null : grid.querySelector('[data-index="' + lastImage + '"]');
  if (back) { grid.querySelector('[tabindex="0"]')!.setAttribute('tabindex', '-1'); back.setAttribute('tabindex', '0'); }
  return out.concat(grid, pager);
}
// Roving focus: one tile in the tab order; arrows move by one or by a row, Home/End to the ends.
function gridKeys(e: KeyboardEvent & { currentTarget: HTMLElement }) {
  const tiles = [...e.currentTarget.querySelectorAll<HTMLElement>('a.tile')], i = tiles.indexOf(document.activeElement as HTMLElement);
  if (i < 0) return;
  const top = tiles[0].getBoundingClientRect().top, cols = Math.max(1, tiles.filter((t) => Math.abs(t.getBoundingClientRect().top - top) < 2).length);
  const moves: Record<string, number> = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: cols, ArrowUp: -cols, Home: -i, End: tiles.length - 1 - i };
  if (!(e.key in moves)) return;
  e.preventDefault();
  const j = Math.max(0, Math.min(tiles.length - 1, i + moves[e.key]));
  tiles[i].setAttribute('tabindex', '-1');
  tiles[j].setAttribute('tabindex', '0');
  tiles[j].focus();
}

// Votes are sparse (class → count of the K members); a class without votes has none.
const voteShare = (l: Answer['levels'][number], c: number) => (l.voteCounts[c] ?? 0) / l.memberPredictions.length;
const ROLE: Record<string, string> = { true: 'true label', 'dense-modal': 'dense modal', 'level-modal': 'level modal' };
// One image's answer (dataset or upload): votes of every level side by side, then the class context.
function answerView(ov: Overview, a: Answer, picture: Element) {
  const names = ov.dataset.classNames, dense = a.levels[0];
  const shown = new Set([a.denseModal.index]);
  if (a.trueLabel) shown.add(a.trueLabel.index);
  for (const l of a.levels) for (const c of Object.keys(l.voteCounts)) shown.add(Number(c));
  const classes = [...shown].sort((x, y) => x - y);
  const cards = a.levels.map((l) => h('section', { class: 'level' + (l.isPie ? ' pie' : ''), 'data-level': l.level, 'aria-label': 'Votes at ' + l.level },
    h('h4', {}, l.level, ' ', l.isPie ? h('span', { class: 'badge' }, 'PIE') : null),
    h('p', {}, describeLevel(levelByName(ov, l.level) || l) + (l === dense ? '' : ' · taxicab ' + l.taxicab.toFixed(2))),
    h('p', {}, 'modal: ', h('strong', { class: 'modal-label' }, l.modal.name)),
    h('ul', { class: 'votes' }, classes.map((c) => h('li', { class: c === l.modal.index ? 'modal' : null },
      h('span', { class: 'name', title: names[c] || String(c) }, names[c] || String(c), a.trueLabel && a.trueLabel.index === c ? [h('span', { class: 'tag', 'aria-hidden': 'true' }, ' ✓'), h('span', { class: 'vh' }, ' (true label)')] : null),
      bar(voteShare(l, c)), h('span', { class: 'n' }, pct(voteShare(l, c), 0)))))));
  const context: Element[] = [];
  for (const l of a.levels) for (const r of l.classContext) context.push(h('tr', {},
    h('th', { scope: 'row' }, l.level), h('td', { class: 'text' }, r.name), h('td', { class: 'text' }, r.roles.map((x) => ROLE[x]).join(', ')),
    h('td', { class: r.significant ? r.direction : null }, pp(r.normalizedChange)), h('td', {}, pval(r.p)), h('td', {}, pval(r.pAdjusted)),
    h('td', { class: 'text' }, r.significant ? (r.direction === 'down' ? '▼ yes' : '▲ yes') : 'no')));
  return h('div', { class: 'answer' },
    h('div', { class: 'detail-top' }, picture,
      h('dl', { class: 'facts' },
        h('dt', {}, 'True label'), h('dd', { 'data-fact': 'true' }, a.trueLabel ? a.trueLabel.name : 'not given'),
        h('dt', {}, 'Dense modal label'), h('dd', { 'data-fact': 'dense' }, a.denseModal.name),
        h('dt', {}, 'PIE at'), h('dd', { 'data-fact': 'pie' }, a.pieLevels.length ? a.pieLevels.map((n) => h('span', { class: 'badge' }, n)) : h('span', { class: 'badge ok' }, 'no level')),
        h('dt', {}, 'Run'), h('dd', {}, h('code', {}, a.runId)))),
    h('h3', {}, 'Votes of the ' + ov.K + ' models at each level'),
    a.trueLabel ? h('p', { class: 'meta' }, '✓ marks the true label; bold, the level’s modal label.') : null,
    h('div', { class: 'levels' }, cards),
    h('h3', {}, 'Class context'),
    h('p', { class: 'meta' }, 'How compression moves the classes involved (normalized recall change, Welch t-test at each level).'),
    context.length ? table(['Level', 'Class', 'Role', 'Normalized change', 'p', 'BH p', 'Significant'], context, 'Class context', [1, 2, 6]) : h('p', {}, 'No compressed levels.'));
}
async function viewImage(route: Route) {
  const ov = await overview();
  const i = parseInt(route.arg!, 10);
  if (!(i >= 0)) throw new Error('no image index in the address');
  const a = await getJson<Answer>(runBase(ov) + '/images/' + i);
  lastImage = i;
  const level = route.params.get('level');
  return [
    heading('Image #' + i),
    h('p', { class: 'meta' }, level ? h('a', { href: '#/gallery/' + enc(level) }, '← PIEs at ' + level) : null),
    answerView(ov, a, h('figure', {}, pixelImage(ov, i, 'Evaluation image ' + i + (a.trueLabel ? ', labelled ' + a.trueLabel.name : '')))),
  ];
}

let lastFile: File | null = null;
async function viewTry() {
  const ov = await overview();
  const result = h('div', { id: 'try-result', 'aria-live': 'polite' });
  const file = h('input', { id: 'file', type: 'file', accept: 'image/png,image/jpeg', class: 'vh' });
  const [ih, iw, ic] = ov.dataset.inputShape;
  const autoText = ov.dataset.polarity === 'light-on-dark' ? 'auto (light background → inverted)'
    : ov.dataset.polarity === 'dark-on-light' ? 'auto (dark background → inverted)' : 'auto (never inverted for this dataset)';
  const polarity = h('select', { id: 'polarity' }, [['auto', autoText], ['keep', 'keep as is'], ['invert', 'invert']].map(([v, t]) => h('option', { value: v }, t)));
  const truth = classPicker(ov.dataset.classNames, 'truth', '', 'not known', () => send(lastFile));
  const drop = h('label', { class: 'drop', for: 'file' }, h('strong', {}, 'Drop an image here, or choose a file'), h('span', { class: 'muted' }, 'PNG or JPEG, any size: it is made ' + (ic === 3 ? 'colour' : 'grayscale') + ' and ' + iw + '×' + ih + ' like the training data'), file);
  async function send(f: File | null | undefined) {
    if (!f) return;
    lastFile = f;
    result.replaceChildren(h('p', { class: 'muted' }, 'Asking every model of every level…'));
    const q = new URLSearchParams({ polarity: polarity.value });
    if (truth.value() !== '') q.set('label', truth.value());
    try {
      const r = await api(runBase(ov) + '/predict?' + q, { method: 'POST', body: f, headers: { 'content-type': f.type || 'application/octet-stream' } });
      const a: Answer = await r.json(), pre: Preprocessing = (a.image as { preprocessing?: Preprocessing }).preprocessing || {};
      const img = h('img', { alt: 'Your image: ' + f.name, class: 'px' });
      img.src = URL.createObjectURL(f);
      result.replaceChildren(h('h3', {}, 'Live answer for ', h('code', {}, f.name)),
        h('p', { class: 'meta' }, pre.source ? (pre.format + ' ' + pre.source.width + '×' + pre.source.height + ' → ' + pre.target!.width + '×' + pre.target!.height + (pre.inverted ? ', inverted' : '') + ' (resample: ' + pre.resample + ')') : ''),
        answerView(ov, a, h('figure', {}, img)));
    } catch (err) {
      result.replaceChildren(h('p', {}, 'No answer: ' + (err as Error).message));
      showError(err as Error);
    }
  }
  file.addEventListener('change', () => send(file.files![0]));
  polarity.addEventListener('change', () => send(lastFile));
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => { e.preventDefault(); drop.classList.remove('over'); send(e.dataTransfer!.files[0]); });
  return [
    heading('Try an image'),
    h('p', { class: 'meta' }, 'Every model of every level of run ', h('code', {}, ov.runId), ' predicts your image live; the answer has the same shape as a dataset image’s.'),
    h('form', { class: 'try-form', onsubmit: (e) => e.preventDefault() }, drop,
      h('div', { class: 'row' },
        h('div', {}, h('label', { for: 'polarity' }, 'Polarity'), polarity),
        h('div', {}, h('label', { for: 'truth' }, 'True class (optional)'), truth.el))),
    result,
  ];
}

// The human study: a Label Studio export in, per category the share of PIEs and of non-PIEs
// people marked, with intervals. Dots with whiskers on a shared 0–100 % axis, so the two groups
// of a category read side by side.
interface StudyShare { count: number; n: number; share: number | null; ci: [number, number] | null }
interface StudyRow { id?: string; label?: string; pie: StudyShare; nonPie: StudyShare; difference: number | null; p: number; significant: boolean; direction: string }
interface StudyResult { runId: string; level: string; pies: number; nonPies: number; annotations: number; categories: StudyRow[]; disagreement: StudyRow }

function studyChart(t: StudyResult) {
  const rows = [...t.categories, { ...t.disagreement, label: 'Annotator class ≠ dataset label' }];
  const L = 250, R = 20, T = 10, RH = 30, W = 720, H = T + rows.length * RH + 30;
  const x = (v: number) => L + v * (W - L - R);
  const svg = svgChart(W, H, 'Share of PIEs and of non-PIEs marked with each category, with 95 % intervals');
  const g = s('g', { class: 'axis' });
  for (const v of [0, 0.25, 0.5, 0.75, 1]) {
    g.append(s('line', { class: 'grid', x1: x(v), x2: x(v), y1: T, y2: H - 25 }));
    g.append(s('text', { x: x(v), y: H - 10, 'text-anchor': 'middle' }, Math.round(v * 100) + '%'));
  }
  svg.append(g);
  rows.forEach((r, k) => {
    const y = T + k * RH + RH / 2;
    svg.append(s('text', { x: L - 8, y: y + 4, 'text-anchor': 'end' }, (r.label || '') + (r.significant ? ' *' : '')));
    ([[r.pie, 'down', -5], [r.nonPie, 'ns', 5]] as [StudyShare, string, number][]).forEach(([sh, cls, dy]) => {
      if (sh.share == null || !sh.ci) return;
      svg.append(s('g', { class: cls },
        s('title', {}, (cls === 'down' ? 'PIEs: ' : 'non-PIEs: ') + pct(sh.share) + ' (' + sh.count + ' of ' + sh.n + '), 95 % interval ' + pct(sh.ci[0]) + '–' + pct(sh.ci[1])),
        s('line', { class: 'whisker', x1: x(sh.ci[0]), x2: x(sh.ci[1]), y1: y + dy, y2: y + dy, stroke: 'currentColor' }),
        s('circle', { class: cls, cx: x(sh.share), cy: y + dy, r: 4 })));
    });
  });
  return svg;
}

async function viewStudy() {
  const ov = await overview();
  const file = h('input', { type: 'file', id: 'study-file', accept: 'application/json,.json' });
  const result = h('div', { id: 'study-result' });
  file.addEventListener('change', async () => {
    const f = file.files![0];
    if (!f) return;
    result.replaceChildren(h('p', { class: 'muted' }, 'Tallying…'));
    try {
      const r = await api(runBase(ov) + '/study', { method: 'POST', headers: { 'content-type': 'application/json' }, body: await f.text() });
      const t = await r.json() as StudyResult;
      result.replaceChildren(
        figure('Why people find these images hard', 'Run ' + t.runId + ' at ' + t.level + ': ' + t.pies + ' PIEs and ' + t.nonPies + ' non-PIEs, ' + t.annotations + ' annotations. * significant (Fisher exact, p ≤ 0.05).',
          studyChart(t), legend([['down', 'PIEs'], ['ns', 'non-PIEs']])),
        h('table', { class: 'study' },
          h('thead', {}, h('tr', {}, h('th', {}, 'category'), h('th', {}, 'PIEs'), h('th', {}, 'non-PIEs'), h('th', {}, 'difference'), h('th', {}, 'p'))),
          h('tbody', {}, [...t.categories, { ...t.disagreement, label: 'Annotator class ≠ dataset label' }].map((c) => h('tr', { class: c.significant ? 'sig' : '' },
            h('td', {}, c.label || ''), h('td', {}, pct(c.pie.share)), h('td', {}, pct(c.nonPie.share)), h('td', {}, pp(c.difference)), h('td', {}, pval(c.p)))))));
    } catch (err) {
      result.replaceChildren(h('p', {}, 'No table: ' + (err as Error).message));
      showError(err as Error);
    }
  });
  return [
    heading('Human study'),
    h('p', { class: 'meta' }, 'Make the tasks with ', h('code', {}, 'pie label-studio config --level <level>'), ', annotate them in Label Studio, then choose its Export → JSON file here.'),
    h('form', { onsubmit: (e: Event) => e.preventDefault() }, h('label', { for: 'study-file' }, 'Label Studio export (JSON)'), file),
    result,
  ];
}

// ---- robustness and subgroups ----------------------------------------------------------------
const subgroupCache = new Map<string, Promise<Subgroups | null>>();
/** The run's subgroup analysis, or null for a run made without --attributes (the API answers 404). */
function subgroupsOrNull(ov: Overview): Promise<Subgroups | null> {
  let p = subgroupCache.get(ov.runId);
  if (!p) {
    p = getJson<Subgroups>(runBase(ov) + '/subgroups').catch((err: Error & { status?: number }) => { if (err.status === 404) return null; throw err; });
    subgroupCache.set(ov.runId, p);
  }
  return p;
}
/** Relative accuracy 0…1 → fill: red (all lost) through yellow to green (kept). */
function heatColor(v: number) {
  const x = Math.max(0, Math.min(1, v));
  const hue = Math.round(120 * x);
  return 'hsl(' + hue + ', 65%, ' + (45 + 15 * x) + '%)';
}
function robustnessChart(r: Robustness) {
  const cols = r.corruptions, rows = r.levels;
  const L = 80, T = 92, cw = Math.max(44, Math.min(72, 560 / Math.max(1, cols.length))), ch = 26;
  const W = L + cw * cols.length + 10, H = T + ch * rows.length + 10;
  const svg = svgChart(W, H, 'Accuracy on each corrupted test set relative to the level’s clean accuracy, levels × corruptions; starred: significantly more fragile than dense');
  cols.forEach((c, j) => svg.append(s('text', { class: 'col', x: L + cw * j + cw / 2, y: T - 6, transform: 'rotate(-40 ' + (L + cw * j + cw / 2) + ' ' + (T - 6) + ')' }, c.key)));
  rows.forEach((l, t) => {
    svg.append(s('text', { class: 'row', x: L - 6, y: T + ch * t + ch / 2 + 4, 'text-anchor': 'end' }, l.name));
    l.cells.forEach((cell, j) => {
      const v = cell.relative ? cell.relative.mean : null;
      svg.append(s('g', { 'data-cell': l.name + '/' + cell.key },
        s('rect', { x: L + cw * j, y: T + ch * t, width: cw - 2, height: ch - 2, fill: v == null ? '#ccc' : heatColor(v) },
          s('title', {}, l.name + ' on ' + cell.key + ': ' + pct(v) + ' of clean accuracy; Δ vs dense ' + pp(cell.relativeDiff) + ', BH p ' + pval(cell.pAdjusted))),
        s('text', { x: L + cw * j + cw / 2 - 1, y: T + ch * t + ch / 2 + 4, 'text-anchor': 'middle', class: 'cell' }, (v == null ? '—' : Math.round(v * 100)) + (cell.moreFragileAdjusted ? '*' : ''))));
    });
  });
  return svg;
}
function overIndexChart(rows: Subgroups['levels'][number]['rows'], level: string) {
  const shown = rows.filter((r) => r.overIndex);
  const L = 190, R = 20, T = 10, B = 30, rh = 18;
  const W = 620, H = T + B + rh * Math.max(1, shown.length);
  const hi = Math.max(2, ...shown.map((r) => Math.min(10, r.overIndex!.high)));
  const x = (v: number) => L + (W - L - R) * Math.min(v, hi) / hi;
  const svg = svgChart(W, H, 'PIE over-indexing per subgroup at ' + level + ': share among PIEs ÷ share of the test set, with Clopper–Pearson intervals');
  const ticks = niceTicks(0, hi, 5);
  const g = s('g', { class: 'axis' });
  for (const t of ticks) g.append(s('line', { x1: x(t), x2: x(t), y1: T, y2: H - B }), s('text', { x: x(t), y: H - B + 16, 'text-anchor': 'middle' }, t.toFixed(1)));
  svg.append(g);
  shown.forEach((r, n) => {
    const y = T + rh * n + rh / 2, o = r.overIndex!;
    svg.append(s('g', { class: r.overIndexedAdjusted ? 'down' : 'ns', 'data-subgroup': r.key },
      s('text', { x: L - 6, y: y + 4, 'text-anchor': 'end' }, r.key),
      s('line', { class: 'whisker', x1: x(o.low), x2: x(o.high), y1: y, y2: y }),
      s('circle', { cx: x(o.ratio), cy: y, r: 4 }, s('title', {}, r.key + ': ' + o.ratio.toFixed(2) + ' [' + o.low.toFixed(2) + ', ' + o.high.toFixed(2) + ']'))));
  });
  svg.append(s('line', { class: 'ref', x1: x(1), x2: x(1), y1: T, y2: H - B }));
  return svg;
}
async function viewRobustness(route: Route) {
  const ov = await overview();
  const out: Kid[] = [heading('Robustness and subgroups')];
  const rob = await getJson<Robustness>(runBase(ov) + '/robustness').catch((err: Error & { status?: number }) => { if (err.status === 404) return null; throw err; });
  if (rob) {
    out.push(
      figure('Accuracy under corruption, relative to clean', 'Each cell: the level’s mean accuracy on the corrupted test set ÷ its clean accuracy (%). * = significantly more fragile than dense (Welch over members, BH p ≤ ' + rob.alpha + ').', robustnessChart(rob)),
      table(['Level', 'Clean accuracy', 'mCE', 'Relative mCE', 'More fragile (BH)', 'Majority lost'], rob.levels.map((l) => h('tr', {},
        h('th', { scope: 'row' }, l.name), h('td', {}, pct(l.cleanAccuracy.mean)), h('td', {}, num(l.mCE, 2)), h('td', {}, num(l.relativeMCE, 2)),
        h('td', {}, l.moreFragileAdjusted + ' / ' + l.cells.length), h('td', {}, String(l.cells.reduce((a, c) => a + c.survival.lost, 0))))), 'Robustness per level', []));
  } else out.push(h('p', { class: 'muted' }, 'This run has no corrupted test sets (pie run --corruptions).'));
  const sub = await subgroupsOrNull(ov);
  if (sub) {
    const levels = sub.levels.slice(1);
    const lv = levels.find((l) => l.name === route.params.get('level')) || levels.reduce((a, b) => (b.pieCount > a.pieCount ? b : a), levels[0]);
    const sizes = new Map(sub.subgroups.map((g) => [g.key, g.size]));
    out.push(
      h('h3', {}, 'Subgroups at ' + lv.name),
      h('div', { class: 'toolbar' }, levelSelect(ov, lv.name, (n) => '#/robustness?level=' + enc(n))),
      figure('PIE over-indexing', lv.pieCount + ' PIEs. Dot: the subgroup’s share among PIEs ÷ its share of the test set; line: Clopper–Pearson ' + Math.round((1 - sub.alpha) * 100) + ' % interval; coloured: over-indexed (BH).', overIndexChart(lv.rows, lv.name)),
      table(['Subgroup', 'Images', 'Error', 'Δ vs dense', 'Impact', 'p (BH)', 'Over-index', ''], lv.rows.map((r) => h('tr', { 'data-subgroup': r.key },
        h('th', { scope: 'row' }, r.key), h('td', {}, String(sizes.get(r.key))), h('td', {}, pct(r.error.mean) + ' ± ' + pct(r.error.sd)),
        h('td', {}, pp(r.errorChange)), h('td', {}, num(r.disparateImpact, 2)), h('td', { class: r.hurtAdjusted ? 'down' : null }, pval(r.pAdjusted)),
        h('td', { class: r.overIndexedAdjusted ? 'down' : null }, r.overIndex ? num(r.overIndex.ratio, 2) : '—'),
        h('td', { class: 'text' }, h('a', { href: '#/gallery/' + enc(lv.name) + '?subgroup=' + enc(r.key) }, 'PIEs')))), 'Subgroups', [7]));
  } else out.push(h('p', { class: 'muted' }, 'This run has no attributes (pie run --attributes FILE.csv).'));
  return out;
}

// ---- routing -----------------------------------------------------------------------------
const VIEWS: Record<string, (route: Route) => Promise<Kid>> = { overview: viewOverview, classes: viewClasses, gallery: viewGallery, image: viewImage, try: viewTry, study: viewStudy, robustness: viewRobustness };
let token = 0, firstRender = true;
async function render() {
  const raw = location.hash.replace(/^#\/?/, ''), qi = raw.indexOf('?');
  const parts = (qi < 0 ? raw : raw.slice(0, qi)).split('/').filter(Boolean).map(decodeURIComponent);
  const route: Route = { name: parts[0] || 'overview', arg: parts[1], params: new URLSearchParams(qi < 0 ? '' : raw.slice(qi + 1)) };
  const mine = ++token;
  for (const a of document.querySelectorAll<HTMLElement>('nav a[data-view]')) {
    if (a.dataset.view === route.name || (route.name === 'image' && a.dataset.view === 'gallery')) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  say('');
  view.setAttribute('aria-busy', 'true');
  try {
    const fn = VIEWS[route.name];
    if (!fn) throw new Error('there is no view “' + route.name + '”');
    const content = await fn(route);
    if (mine !== token) return;
    keyForm.classList.remove('wanted');
    view.replaceChildren(add(document.createDocumentFragment(), [content]));
    document.title = view.querySelector('h2')!.textContent + ' · PIE Lens';
    const start = route.name === 'gallery' && view.querySelector<HTMLElement>('a.tile[tabindex="0"]');
    if (start && lastImage != null && start.dataset.index === String(lastImage)) start.focus();
    else if (!firstRender) view.querySelector('h2')!.focus();
  } catch (err) {
    if (mine !== token) return;
    view.replaceChildren(heading('Nothing to show yet'), h('p', { class: 'muted' }, (err as Error).message));
    showError(err as Error);
  } finally {
    if (mine === token) { view.removeAttribute('aria-busy'); firstRender = false; }
  }
}

keyInput.value = storedKey();
keyState.textContent = storedKey() ? 'key set for this tab' : '';
keyForm.addEventListener('submit', (e) => {
  e.preventDefault();
  const v = keyInput.value.trim();
  if (v) sessionStorage.setItem(KEY, v); else sessionStorage.removeItem(KEY);
  keyState.textContent = v ? 'key set for this tab' : 'no key';
  forget();
  render();
});
byId('key-forget').addEventListener('click', () => {
  sessionStorage.removeItem(KEY);
  keyInput.value = '';
  keyState.textContent = 'key forgotten';
  forget();
  render();
});
runSelect.addEventListener('change', () => {
  if (runSelect.value === 'latest') sessionStorage.removeItem(RUN); else sessionStorage.setItem(RUN, runSelect.value);
  render();
});
byId('skip').addEventListener('click', (e) => { e.preventDefault(); view.focus(); });
window.addEventListener('hashchange', render);
render();
