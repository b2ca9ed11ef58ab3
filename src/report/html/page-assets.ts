/**
 * The HTML report's inline stylesheet and script. Both are plain strings put
 * into the page as they are: no framework, nothing fetched when the page is
 * viewed (its Content-Security-Policy allows no request at all).
 *
 * The script fills a log only when its step is expanded (from the JSON in
 * `<script id="report-logs">`), so a report of thousands of steps does not
 * build thousands of log blocks up front; it also runs the status and name
 * filters.
 */

/** The statuses the page has a colour for, with that colour (CSS). */
export const STATUS_COLOURS: Readonly<Record<string, string>> = {
  succeeded: '#1f883d',
  failed: '#cf222e',
  timed_out: '#bc4c00',
  cancelled: '#6e7781',
  skipped: '#afb8c1',
  running: '#0969da',
  pending: '#d0d7de',
  waiting: '#8250df',
  starting: '#bf8700',
  healthy: '#1a7f37',
  unhealthy: '#cf222e',
  stopped: '#57606a',
};

/** Colours of a service's phases on the timeline. */
export const PHASE_COLOURS: Readonly<Record<string, string>> = {
  starting: '#d4a72c',
  waiting: '#f2cc60',
  healthy: '#54aeff',
};

/** The page's stylesheet, with a rule per status for its colour and its filter. */
export function pageStyle(): string {
  const statusRules = Object.entries(STATUS_COLOURS)
    .map(
      ([s, c]) =>
        `.st-${s}{--c:${c}}` +
        `.hide-${s} [data-status="${s}"]:not(g){display:none}` +
        `.hide-${s} g[data-status="${s}"]{opacity:.15}`,
    )
    .join('\n');
  const phaseRules = Object.entries(PHASE_COLOURS)
    .map(([p, c]) => `.bar.ph-${p}{background-color:${c}}`)
    .join('\n');
  return `
:root{color-scheme:light;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;background:#fff}
body{margin:0 auto;padding:16px 24px 48px;max-width:1400px}
h1{font-size:22px;margin:0 0 8px;display:flex;gap:10px;align-items:center;flex-wrap:wrap}
h2{font-size:16px;margin:28px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;background:var(--c,#d0d7de);color:#fff;font-size:12px;font-weight:600;white-space:nowrap}
.badge.st-skipped,.badge.st-pending{color:#1f2328}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:8px 0}
dl.facts dt{color:#57606a}dl.facts dd{margin:0;overflow-wrap:anywhere}
table.inputs{border-collapse:collapse;margin:4px 0}
table.inputs td,table.inputs th{border:1px solid #d0d7de;padding:2px 8px;text-align:left;vertical-align:top}
table.inputs td{overflow-wrap:anywhere}
.filters{position:sticky;top:0;z-index:2;background:#fff;padding:8px 0;border-bottom:1px solid #d0d7de;display:flex;gap:12px;flex-wrap:wrap;align-items:center}
.filters label{display:inline-flex;gap:4px;align-items:center;cursor:pointer}
.filters input[type=search]{padding:3px 6px;min-width:14em}
.graph{overflow:auto;max-height:70vh;border:1px solid #d0d7de;border-radius:6px}
.graph svg{display:block}
.graph rect{fill:#fff;stroke:var(--c);stroke-width:2}
.graph text{font-size:12px;fill:#1f2328;pointer-events:none}
.graph path{fill:none;stroke:#8c959f;stroke-width:1.2}
.graph g.dag-node{cursor:pointer}
.gantt{border:1px solid #d0d7de;border-radius:6px;overflow:hidden}
.row{display:grid;grid-template-columns:minmax(8em,16em) 1fr;height:20px;align-items:center;border-top:1px solid #f0f2f4}
.row:hover{background:#f6f8fa}
.row .label{overflow:hidden;text-overflow:ellipsis;white-space:nowrap;padding:0 8px;font-size:12px}
.row .label a{color:inherit;text-decoration:none}
.row.service .label{font-style:italic}
.track{position:relative;height:100%}
.bar{position:absolute;top:3px;bottom:3px;min-width:3px;border-radius:2px;background-color:var(--c)}
.bar.open{background-image:repeating-linear-gradient(45deg,transparent 0 4px,rgba(255,255,255,.45) 4px 8px)}
.bar.ph-waiting{background-image:repeating-linear-gradient(45deg,transparent 0 4px,rgba(0,0,0,.12) 4px 8px)}
.track .note{position:absolute;left:4px;font-size:11px;color:#57606a;white-space:nowrap}
.axis{position:relative;height:20px;margin-left:0;font-size:11px;color:#57606a}
.axis .tick{position:absolute;top:0;bottom:0;border-left:1px solid #d0d7de;padding-left:3px;white-space:nowrap}
.axis-row{display:grid;grid-template-columns:minmax(8em,16em) 1fr;background:#f6f8fa}
.legend{display:flex;gap:14px;flex-wrap:wrap;margin:6px 0;font-size:12px;color:#57606a}
.legend i{display:inline-block;width:14px;height:10px;border-radius:2px;margin-right:4px;vertical-align:middle;background-color:var(--c)}
details.node{border:1px solid #d0d7de;border-radius:6px;margin:4px 0}
.big .row{content-visibility:auto;contain-intrinsic-size:auto 20px}
.big details.node{content-visibility:auto;contain-intrinsic-size:auto 34px}
details.node>summary{cursor:pointer;padding:6px 10px;display:flex;gap:8px;align-items:center;flex-wrap:wrap}
details.node[open]>summary{border-bottom:1px solid #d0d7de}
.node .detail{color:#57606a;overflow-wrap:anywhere}
.attempt{padding:6px 10px}
.attempt-head{font-size:12px;color:#57606a;margin-bottom:4px}
pre.log{margin:0;padding:8px;background:#f6f8fa;border-radius:4px;overflow:auto;max-height:28em;white-space:pre-wrap;overflow-wrap:anywhere}
pre.log .err{color:#a40e26}
.omitted{font-size:12px;color:#57606a;margin:4px 0 0}
.name-hidden:not(g){display:none}g.name-hidden{opacity:.15}
footer{margin-top:32px;font-size:12px;color:#57606a}
${statusRules}
${phaseRules}
`;
}

/** The page's script: lazy logs, filters, and opening a step from the graph or the timeline. */
export const PAGE_SCRIPT = `
(function () {
  'use strict';
  var data = document.getElementById('report-logs');
  var logs = data ? JSON.parse(data.textContent || '[]') : [];
  function fill(details) {
    var pres = details.querySelectorAll('pre[data-log]:not([data-filled])');
    for (var i = 0; i < pres.length; i++) {
      var pre = pres[i];
      var segments = logs[Number(pre.getAttribute('data-log'))] || [];
      for (var j = 0; j < segments.length; j++) {
        var span = document.createElement('span');
        if (segments[j][0] === 'e') span.className = 'err';
        span.textContent = segments[j][1] + '\\n';
        pre.appendChild(span);
      }
      if (segments.length === 0) pre.textContent = '(no output)';
      pre.setAttribute('data-filled', '');
    }
  }
  var nodes = document.querySelectorAll('details.node');
  for (var i = 0; i < nodes.length; i++) {
    (function (d) {
      if (d.open) fill(d);
      d.addEventListener('toggle', function () { if (d.open) fill(d); });
    })(nodes[i]);
  }
  function openTarget() {
    var id = decodeURIComponent(location.hash.slice(1));
    var target = id ? document.getElementById(id) : null;
    if (target && target.tagName === 'DETAILS') { target.open = true; fill(target); }
  }
  window.addEventListener('hashchange', openTarget);
  openTarget();
  var graph = document.querySelector('.graph svg');
  if (graph) graph.addEventListener('click', function (event) {
    var g = event.target.closest ? event.target.closest('g[data-target]') : null;
    if (g) location.hash = g.getAttribute('data-target');
  });
  var boxes = document.querySelectorAll('.filters input[data-filter]');
  for (var k = 0; k < boxes.length; k++) {
    boxes[k].addEventListener('change', function (event) {
      var box = event.target;
      document.body.classList.toggle('hide-' + box.getAttribute('data-filter'), !box.checked);
    });
  }
  var search = document.getElementById('name-filter');
  if (search) search.addEventListener('input', function () {
    var q = search.value.trim().toLowerCase();
    var named = document.querySelectorAll('[data-node]');
    for (var n = 0; n < named.length; n++) {
      var el = named[n];
      var hit = !q || el.getAttribute('data-node').toLowerCase().indexOf(q) >= 0;
      el.classList.toggle('name-hidden', !hit);
    }
  });
})();
`;
