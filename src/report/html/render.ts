/**
 * Renders a {@link ReportModel} as one self-contained HTML page: inline CSS
 * and script (`page-assets.ts`), an SVG graph, a timeline of CSS-positioned
 * bars, and each step's log. Every text of the run (names, errors, inputs,
 * logs) is escaped; logs travel as JSON inside a `<script type=
 * "application/json">` with `<` escaped, and the page's script puts them in
 * the page as text only. A Content-Security-Policy allows no request, so the
 * page cannot reach the network whatever it holds.
 *
 * Size: the page's markup grows by a few hundred bytes per step and attempt;
 * log text is capped by the model's {@link LogLimits}; the graph is drawn for
 * up to {@link GRAPH_MAX_NODES} nodes.
 */

import { basename } from 'node:path';
import { formatMs } from '../../run/format.js';
import { layoutDag } from './layout.js';
import type { LogExcerpt, ReportModel, ReportNode } from './model.js';
import { PAGE_SCRIPT, PHASE_COLOURS, pageStyle, STATUS_COLOURS } from './page-assets.js';

/** Above this many steps and services the graph is not drawn (the timeline and the list still show every one). */
export const GRAPH_MAX_NODES = 500;

/**
 * From this many steps and services on, the browser skips laying out and
 * painting the timeline's rows and the list's entries that are off screen
 * (CSS `content-visibility: auto`); below it every one is painted (so a
 * full-page screenshot or a print shows them all).
 */
export const LAZY_PAINT_NODES = 200;

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#39;',
  );
}

/** JSON safe inside a `<script>` element: no `<` (so no `</script>`), no U+2028/2029. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

const utc = (ms: number | null) =>
  ms === null ? '-' : `${new Date(ms).toISOString().replace('T', ' ').slice(0, 19)} UTC`;

const human = (status: string) => status.replace('_', ' ');

/** An attempt's error, unless it only repeats its exit code. */
const errorBeyondExit = (error: string | null, exitCode: number | null) =>
  error && error !== `exit code ${exitCode}` ? error : '';

/** Statuses that open a node's logs by default. */
const FAILED = new Set(['failed', 'timed_out', 'unhealthy']);

/** The HTML page of the report. */
export function renderHtmlReport(model: ReportModel): string {
  const logs: [string, string][][] = [];
  const out: string[] = [];
  const { run } = model;
  out.push(
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">`,
    `<title>${escapeHtml(`${run.workflow} · run ${run.id} · ${human(run.status)}`)}</title>`,
    `<style>${pageStyle()}</style>`,
    '</head>',
    model.nodes.length >= LAZY_PAINT_NODES ? '<body class="big">' : '<body>',
  );
  out.push(header(model));
  out.push(filters(model));
  out.push(graph(model));
  out.push(timeline(model));
  out.push(nodeList(model, logs));
  out.push(
    `<footer>Built by agentfile from the stored events of run ${escapeHtml(run.id)} at ${escapeHtml(utc(model.generatedAt))}. The whole log of a step: <code>${escapeHtml(model.logsCommand)} STEP</code>.</footer>`,
  );
  out.push(`<script type="application/json" id="report-logs">${scriptJson(logs)}</script>`);
  out.push(`<script>${PAGE_SCRIPT}</script>`, '</body>', '</html>', '');
  return out.join('\n');
}

function header(model: ReportModel): string {
  const { run } = model;
  const facts: [string, string][] = [
    ['run', `<code>${escapeHtml(run.id)}</code>`],
    ['file', `<code>${escapeHtml(basename(run.file))}</code>`],
    ['created', escapeHtml(utc(run.createdAt))],
    [
      'duration',
      model.durationMs === null
        ? '-'
        : escapeHtml(
            `${formatMs(model.durationMs)}${run.status === 'running' ? ' so far' : ''}${run.sessions > 1 ? ` (last of ${run.sessions} sessions)` : ''}`,
          ),
    ],
  ];
  if (run.error) facts.push(['error', escapeHtml(run.error)]);
  const inputs = Object.entries(run.inputs ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const inputRows = inputs
    .map(
      ([k, v]) =>
        `<tr><th><code>${escapeHtml(k)}</code></th><td><code>${escapeHtml(typeof v === 'string' ? v : JSON.stringify(v))}</code></td></tr>`,
    )
    .join('');
  return [
    '<header>',
    `<h1>${escapeHtml(run.workflow)} <span class="badge st-${run.status}" id="run-status">${escapeHtml(human(run.status))}</span></h1>`,
    `<dl class="facts">${facts.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('')}</dl>`,
    inputs.length > 0
      ? `<table class="inputs" id="inputs"><caption hidden>inputs</caption><tbody>${inputRows}</tbody></table>`
      : '<p class="detail" id="inputs">no inputs</p>',
    '</header>',
  ].join('\n');
}

function filters(model: ReportModel): string {
  const counts = new Map<string, number>();
  for (const n of model.nodes) counts.set(n.status, (counts.get(n.status) ?? 0) + 1);
  const order = Object.keys(STATUS_COLOURS);
  const statuses = [...counts.keys()].sort((a, b) => order.indexOf(a) - order.indexOf(b));
  const boxes = statuses.map(
    (s) =>
      `<label class="st-${s}"><input type="checkbox" data-filter="${s}" checked> <span class="badge st-${s}">${escapeHtml(human(s))}</span> ${counts.get(s)}</label>`,
  );
  return `<nav class="filters" aria-label="filters"><strong>show</strong> ${boxes.join(' ')} <input type="search" id="name-filter" placeholder="filter by name" aria-label="filter by name"></nav>`;
}

const NODE_W = 160;
const NODE_H = 26;
const COL_GAP = 56;
const ROW_GAP = 10;
const PAD = 12;

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function graph(model: ReportModel): string {
  const head = '<section id="graph"><h2>Graph</h2>';
  if (model.nodes.length > GRAPH_MAX_NODES) {
    return `${head}<p class="detail">${model.nodes.length} steps and services: the graph is drawn for up to ${GRAPH_MAX_NODES}. The timeline and the list below show every one.</p></section>`;
  }
  const layout = layoutDag(model.nodes);
  const index = new Map(model.nodes.map((n, i) => [n.id, i]));
  const width = PAD * 2 + layout.layers * NODE_W + Math.max(0, layout.layers - 1) * COL_GAP;
  const height = PAD * 2 + layout.maxRows * NODE_H + Math.max(0, layout.maxRows - 1) * ROW_GAP;
  const at = (id: string) => {
    const p = layout.positions.get(id) ?? { layer: 0, row: 0 };
    return { x: PAD + p.layer * (NODE_W + COL_GAP), y: PAD + p.row * (NODE_H + ROW_GAP) };
  };
  const edges: string[] = [];
  const boxes: string[] = [];
  for (const n of model.nodes) {
    const to = at(n.id);
    for (const need of n.needs) {
      if (!index.has(need)) continue;
      const from = at(need);
      const x1 = from.x + NODE_W;
      const y1 = from.y + NODE_H / 2;
      const x2 = to.x;
      const y2 = to.y + NODE_H / 2;
      const mid = (x1 + x2) / 2;
      edges.push(
        `<path data-edge="${escapeHtml(`${need}->${n.id}`)}" d="M${x1} ${y1}C${mid} ${y1} ${mid} ${y2} ${x2 - 4} ${y2}" marker-end="url(#arrow)"/>`,
      );
    }
    boxes.push(
      `<g class="dag-node st-${n.status}" data-status="${n.status}" data-node="${escapeHtml(n.id)}" data-target="n-${index.get(n.id)}" transform="translate(${to.x} ${to.y})"><title>${escapeHtml(`${n.kind} ${n.id}: ${human(n.status)}`)}</title><rect width="${NODE_W}" height="${NODE_H}" rx="${n.kind === 'service' ? 13 : 4}"/><text x="8" y="17">${escapeHtml(truncate(n.id, 22))}</text></g>`,
    );
  }
  const note = model.edgesKnown
    ? ''
    : '<p class="detail">This run was recorded without its dependencies: the graph shows its steps without edges.</p>';
  return `${head}${note}<div class="graph"><svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="dependency graph"><defs><marker id="arrow" viewBox="0 0 8 8" refX="4" refY="4" markerWidth="7" markerHeight="7" orient="auto"><path d="M0 0L8 4L0 8z" fill="#8c959f" stroke="none"/></marker></defs>${edges.join('')}${boxes.join('')}</svg></div></section>`;
}

/** A tick every 1, 2 or 5 × 10^k ms, at most about 10 across the window. */
function tickStep(spanMs: number): number {
  const raw = spanMs / 10;
  const p = 10 ** Math.floor(Math.log10(Math.max(raw, 1)));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

function timeline(model: ReportModel): string {
  const { start, end } = model.timeline;
  const span = Math.max(1, end - start);
  const pct = (ms: number) => `${(((ms - start) / span) * 100).toFixed(3)}%`;
  const width = (from: number, to: number) =>
    `${((Math.max(0, to - from) / span) * 100).toFixed(3)}%`;
  const step = tickStep(span);
  const ticks: string[] = [];
  for (let t = 0; t <= span; t += step) {
    ticks.push(`<span class="tick" style="left:${pct(start + t)}">${formatMs(t)}</span>`);
  }
  const rows = model.nodes.map((n, i) => {
    const bars: string[] = [];
    if (n.kind === 'service') {
      for (const p of n.phases) {
        const to = p.finishedAt ?? end;
        bars.push(
          `<div class="bar ph-${p.phase}${p.finishedAt === null ? ' open' : ''}" data-phase="${p.phase}" data-attempt="${p.attempt}" style="left:${pct(p.startedAt)};width:${width(p.startedAt, to)}" title="${escapeHtml(`service ${n.id}, start ${p.attempt}: ${phaseLabel(p.phase)}, ${formatMs(to - p.startedAt)}`)}"></div>`,
        );
      }
    } else {
      for (const a of n.attempts) {
        const to = a.finishedAt ?? end;
        const detail = [
          human(a.status),
          formatMs(to - a.startedAt),
          a.exitCode !== null ? `exit code ${a.exitCode}` : '',
          errorBeyondExit(a.error, a.exitCode),
        ]
          .filter(Boolean)
          .join(', ');
        bars.push(
          `<div class="bar st-${a.status}${a.finishedAt === null ? ' open' : ''}" data-attempt="${a.attempt}" data-outcome="${a.status}" style="left:${pct(a.startedAt)};width:${width(a.startedAt, to)}" title="${escapeHtml(`${n.id}, attempt ${a.attempt}: ${detail}`)}"></div>`,
        );
      }
    }
    if (bars.length === 0) {
      bars.push(
        `<span class="note">${escapeHtml(human(n.status))}${n.error ? `: ${escapeHtml(n.error)}` : ''}</span>`,
      );
    }
    return `<div class="row ${n.kind}" data-node="${escapeHtml(n.id)}" data-status="${n.status}" data-kind="${n.kind}"><div class="label" title="${escapeHtml(n.id)}"><a href="#n-${i}">${escapeHtml(n.id)}</a></div><div class="track">${bars.join('')}</div></div>`;
  });
  const legend = [
    ...['succeeded', 'failed', 'timed_out', 'cancelled', 'running'].map(
      (s) => `<span class="st-${s}"><i></i>${human(s)}</span>`,
    ),
    ...Object.entries(PHASE_COLOURS).map(
      ([p, c]) => `<span><i style="--c:${c}"></i>service ${phaseLabel(p)}</span>`,
    ),
  ];
  return `<section id="timeline"><h2>Timeline</h2><div class="legend">${legend.join('')}</div><div class="gantt"><div class="axis-row"><div></div><div class="axis">${ticks.join('')}</div></div>${rows.join('\n')}</div><p class="detail">One bar per attempt; retries are bars of their own. Striped: still open when the run's events end.</p></section>`;
}

function phaseLabel(phase: string): string {
  return phase === 'waiting' ? 'waiting for health' : phase;
}

function logBlock(
  log: LogExcerpt,
  logs: [string, string][][],
  command: string,
  attemptFlag: string,
): string {
  const index = logs.length;
  logs.push(log.segments.map((s) => [s.stream === 'stderr' ? 'e' : 'o', s.text]));
  const notes: string[] = [];
  if (log.omittedLines > 0) {
    notes.push(
      `${log.omittedLines} ${log.segments.length > 0 ? 'earlier ' : ''}line${log.omittedLines === 1 ? '' : 's'} not in this report`,
    );
  }
  if (log.droppedBytes > 0)
    notes.push(`${log.droppedBytes} bytes only in the log file (past the stored stream's cap)`);
  const more =
    notes.length > 0
      ? `<p class="omitted">${escapeHtml(notes.join('; '))}: <code>${escapeHtml(`${command}${attemptFlag}`)}</code></p>`
      : '';
  return `<pre class="log" data-log="${index}"></pre>${more}`;
}

function nodeList(model: ReportModel, logs: [string, string][][]): string {
  const items = model.nodes.map((n, i) => nodeItem(model, n, i, logs));
  return `<section id="steps"><h2>Steps and services</h2>${items.join('\n')}</section>`;
}

function nodeItem(
  model: ReportModel,
  n: ReportNode,
  i: number,
  logs: [string, string][][],
): string {
  const parts: string[] = [];
  const command = `${model.logsCommand} ${n.id}`;
  if (n.kind === 'service') {
    if (n.serviceLog && (n.serviceLog.segments.length > 0 || n.serviceLog.omittedLines > 0)) {
      parts.push(`<div class="attempt">${logBlock(n.serviceLog, logs, command, '')}</div>`);
    }
  } else {
    for (const a of n.attempts) {
      const head = [
        `attempt ${a.attempt}: ${human(a.status)}`,
        a.durationMs !== null ? formatMs(a.durationMs) : 'unfinished',
        a.exitCode !== null ? `exit code ${a.exitCode}` : '',
        errorBeyondExit(a.error, a.exitCode),
      ]
        .filter(Boolean)
        .join(' · ');
      parts.push(
        `<div class="attempt" data-attempt="${a.attempt}"><div class="attempt-head">${escapeHtml(head)}</div>${logBlock(a.log, logs, command, n.attempts.length > 1 ? ` --attempt ${a.attempt}` : '')}</div>`,
      );
    }
  }
  if (parts.length === 0) {
    parts.push(
      `<div class="attempt detail">${escapeHtml(n.kind === 'service' ? 'no output recorded in the events' : 'no attempt')}</div>`,
    );
  }
  const summary = [
    `<span class="badge st-${n.status}">${escapeHtml(human(n.status))}</span>`,
    `<strong>${escapeHtml(n.id)}</strong>`,
    n.kind === 'service' ? '<span class="detail">service</span>' : '',
    n.attempts.length > 1 ? `<span class="detail">${n.attempts.length} attempts</span>` : '',
    n.durationMs !== null
      ? `<span class="detail">${escapeHtml(formatMs(n.durationMs))}</span>`
      : '',
    n.error ? `<span class="detail">${escapeHtml(n.error)}</span>` : '',
  ]
    .filter(Boolean)
    .join(' ');
  return `<details class="node ${n.kind}" id="n-${i}" data-node="${escapeHtml(n.id)}" data-status="${n.status}"${FAILED.has(n.status) ? ' open' : ''}><summary>${summary}</summary>${parts.join('')}</details>`;
}
