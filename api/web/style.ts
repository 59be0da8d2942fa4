/**
 * The page's stylesheet, served as /assets/app.css. Colours keep text at ≥ 4.5:1 on its
 * background and chart marks at ≥ 3:1; direction is never shown by colour alone (▼/▲ and *
 * go with it). The grid reflows down to a 375 px phone.
 */
export const appCss = String.raw`
:root {
  --fg: #1a1d21; --muted: #4f5761; --bg: #fff; --panel: #f4f6f8; --line: #d3d9e0;
  --accent: #1b5fa6; --accent-bg: #e8f0fa; --down: #b2182b; --up: #2166ac; --ns: #858e99;
  --focus: #0b57d0; --warn-bg: #fff4e5; --warn: #8a4b00;
  color-scheme: light;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--fg); background: var(--bg);
}
* { box-sizing: border-box; }
body { margin: 0; }
a { color: var(--accent); }
code { font: 0.92em ui-monospace, SFMono-Regular, Menlo, monospace; overflow-wrap: anywhere; }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.vh { position: absolute; width: 1px; height: 1px; margin: -1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.skip { position: absolute; left: -999px; top: 0; background: var(--bg); padding: .5rem 1rem; z-index: 2; }
.skip:focus { left: .5rem; }
.muted { color: var(--muted); }

.top { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem 1.25rem; padding: .6rem 1rem; border-bottom: 1px solid var(--line); background: var(--panel); }
.top h1 { margin: 0; font-size: 1.2rem; }
.top h1 a { color: var(--fg); text-decoration: none; }
.top nav ul { display: flex; flex-wrap: wrap; gap: .25rem; margin: 0; padding: 0; list-style: none; }
.top nav a { display: block; padding: .3rem .6rem; border-radius: 6px; text-decoration: none; }
.top nav a[aria-current="page"] { background: var(--accent); color: #fff; }
.top nav a:hover { text-decoration: underline; }
.controls { display: flex; flex-wrap: wrap; align-items: center; gap: .4rem .6rem; }
.top .key { margin-left: auto; }
.key.wanted { outline: 3px solid var(--warn); outline-offset: 3px; border-radius: 4px; }
label { font-weight: 600; font-size: .9rem; }
input, select, button { font: inherit; font-size: .9rem; }
input[type="password"], input[type="text"], input[type="search"], select { padding: .3rem .45rem; border: 1px solid #7a838e; border-radius: 5px; background: #fff; color: var(--fg); max-width: 100%; }
.class-search { min-width: 16rem; }
input#key { width: 12rem; }
select#run { max-width: 14rem; }
button { padding: .3rem .8rem; border: 1px solid var(--accent); border-radius: 5px; background: var(--accent); color: #fff; cursor: pointer; }
button.secondary { background: #fff; color: var(--accent); }

#alert { margin: .75rem 1rem 0; padding: .6rem .9rem; border: 1px solid var(--warn); border-radius: 6px; background: var(--warn-bg); color: var(--warn); font-weight: 600; }
main { max-width: 1120px; margin: 0 auto; padding: .5rem 1rem 2rem; }
main:focus { outline: none; }
h2 { font-size: 1.35rem; margin: .9rem 0 .3rem; }
h2:focus { outline: none; }
h3 { font-size: 1.05rem; margin: 1.4rem 0 .4rem; }
.meta { margin: 0 0 .8rem; color: var(--muted); }
footer { max-width: 1120px; margin: 0 auto; padding: 1rem; border-top: 1px solid var(--line); color: var(--muted); font-size: .85rem; }

.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 1rem; }
figure { margin: 0; padding: .6rem .7rem; border: 1px solid var(--line); border-radius: 8px; background: #fff; min-width: 0; }
figure h3 { margin: 0 0 .15rem; font-size: 1rem; }
figcaption { font-size: .82rem; color: var(--muted); margin-bottom: .3rem; }
svg.chart { display: block; width: 100%; height: auto; font-family: inherit; }
svg.chart text { fill: var(--fg); font-size: 11px; }
svg.chart .axis text { fill: var(--muted); }
svg.chart .grid { stroke: #e3e7ec; }
svg.chart .zero, svg.chart .baseline { stroke: #5f6873; }
svg.chart .ref { stroke: var(--muted); stroke-dasharray: 4 3; }
svg.chart .range { stroke: var(--fg); stroke-width: 1.5; }
svg.chart .sd { fill: #b9d0ea; stroke: var(--accent); }
svg.chart .mean { fill: var(--accent); }
svg.chart .bar { fill: var(--accent); }
svg.chart .down { fill: var(--down); }
svg.chart .up { fill: var(--up); }
svg.chart .ns { fill: var(--ns); }
svg.chart .whisker { stroke: var(--muted); stroke-width: 2; }
svg.chart .sig-mark { font-weight: 700; }
svg.chart text.cell { fill: #111; font-size: 10px; }
svg.chart .axis line { stroke: #e3e7ec; }
.legend { display: flex; flex-wrap: wrap; gap: .2rem 1rem; font-size: .82rem; color: var(--muted); margin: .2rem 0 0; padding: 0; list-style: none; }
.swatch { display: inline-block; width: .8em; height: .8em; margin-right: .3em; vertical-align: -.05em; border-radius: 2px; }
.swatch.down { background: var(--down); } .swatch.up { background: var(--up); } .swatch.ns { background: var(--ns); }

.scroll { overflow-x: auto; margin: .6rem 0; }
table { border-collapse: collapse; font-size: .88rem; min-width: 100%; }
th, td { padding: .3rem .55rem; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
th:first-child, td:first-child, td.text, th.text { text-align: left; }
thead th { background: var(--panel); font-weight: 600; }
tbody th { font-weight: 600; }
td.down { color: var(--down); font-weight: 600; } td.up { color: var(--up); font-weight: 600; }

.toolbar { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: end; margin: .4rem 0 .8rem; }
.toolbar > div { display: flex; flex-direction: column; gap: .15rem; }

.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(158px, 1fr)); gap: .7rem; margin: 0; padding: 0; list-style: none; }
.tile { display: block; height: 100%; padding: .5rem; border: 1px solid var(--line); border-radius: 8px; color: var(--fg); text-decoration: none; background: #fff; }
.tile:hover { border-color: var(--accent); }
.tile:focus-visible { outline: 3px solid var(--focus); outline-offset: 1px; background: var(--accent-bg); }
.tile img { display: block; width: 100%; max-width: 140px; height: auto; margin: 0 auto .35rem; aspect-ratio: 1; }
img.px { image-rendering: pixelated; background: #000; }
.tile-head { display: flex; justify-content: space-between; font-size: .82rem; color: var(--muted); }
.labels { display: grid; grid-template-columns: auto 1fr; gap: .1rem .4rem; margin: .2rem 0 0; font-size: .82rem; }
.labels dt { color: var(--muted); }
.labels dd { margin: 0; min-width: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.labels dd.changed { color: var(--down); font-weight: 600; }
.mini { display: flex; align-items: center; gap: .3rem; grid-column: 1 / -1; font-size: .75rem; color: var(--muted); }
.mini .track { flex: 1; height: 6px; background: #e3e7ec; border-radius: 3px; overflow: hidden; }
.mini .fill { display: block; height: 100%; background: var(--accent); }
.mini .fill.lvl { background: var(--down); }
.pager { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; margin: 1rem 0; }
.pager a, .pager span.off { padding: .3rem .7rem; border: 1px solid var(--line); border-radius: 5px; text-decoration: none; }
.pager span.off { color: var(--muted); }

.detail-top { display: flex; flex-wrap: wrap; gap: 1rem 1.5rem; align-items: flex-start; }
.detail-top figure { padding: 0; border: 0; }
.detail-top img { display: block; width: 280px; max-width: 100%; height: auto; aspect-ratio: 1; border-radius: 4px; object-fit: contain; }
.facts { display: grid; grid-template-columns: auto 1fr; gap: .25rem .8rem; margin: 0; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; font-weight: 600; }
.badge { display: inline-block; padding: 0 .4rem; margin: 0 .25rem .15rem 0; border-radius: 4px; font-size: .8rem; font-weight: 600; background: #fde7e9; color: var(--down); }
.badge.ok { background: #e7f3ea; color: #1e6b34; }
.levels { display: grid; grid-template-columns: repeat(auto-fill, minmax(165px, 1fr)); gap: .6rem; }
.level { padding: .5rem .6rem; border: 1px solid var(--line); border-radius: 8px; }
.level.pie { border-color: var(--down); box-shadow: inset 3px 0 0 var(--down); }
.level h4 { margin: 0; font-size: .95rem; }
.level p { margin: .1rem 0 .35rem; font-size: .8rem; color: var(--muted); }
.votes { margin: 0; padding: 0; list-style: none; font-size: .8rem; }
.votes li { display: grid; grid-template-columns: minmax(4.5rem, 40%) 1fr 2.6rem; align-items: center; gap: .35rem; }
.votes .name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.votes .modal .name { font-weight: 700; }
.votes .track { height: 8px; background: #e3e7ec; border-radius: 3px; overflow: hidden; }
.votes .fill { display: block; height: 100%; background: var(--ns); }
.votes .modal .fill { background: var(--accent); }
.votes .n { text-align: right; font-variant-numeric: tabular-nums; }
.tag { color: #1e6b34; font-weight: 700; }

.drop { display: flex; flex-direction: column; align-items: center; justify-content: center; gap: .3rem; min-height: 140px; padding: 1rem; border: 2px dashed #7a838e; border-radius: 10px; background: var(--panel); text-align: center; cursor: pointer; font-weight: 400; font-size: .95rem; }
.drop:focus-within { outline: 3px solid var(--focus); outline-offset: 2px; }
.drop.over { border-color: var(--accent); background: var(--accent-bg); }
.try-form { display: grid; gap: .8rem; max-width: 560px; }
.try-form .row { display: flex; flex-wrap: wrap; gap: .5rem 1.2rem; }
.try-form .row > div { display: flex; flex-direction: column; gap: .15rem; }

@media (max-width: 640px) {
  .top { padding: .5rem .7rem; }
  .top .key { margin-left: 0; }
  input#key { width: 9rem; }
  main { padding: .3rem .7rem 1.5rem; }
  .grid { grid-template-columns: repeat(auto-fill, minmax(140px, 1fr)); gap: .5rem; }
  .detail-top img { width: 200px; }
}
`;
