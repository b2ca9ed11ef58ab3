/**
 * Real parsers for the plan graphs, each giving the graph back as data the
 * tests compare with the plan:
 *
 * - Mermaid: Mermaid's own flowchart parser (the `mermaid` package's
 *   `mermaidAPI.getDiagramFromText`, the one `mermaid.render` uses), run
 *   headless on a jsdom window because Mermaid sanitises labels with
 *   DOMPurify, which needs a DOM. `@mermaid-js/parser` would be lighter, but
 *   it parses only the Langium-based diagram types (info, packet, pie,
 *   architecture, gitGraph, radar, treemap, …), not flowcharts.
 * - DOT: Graphviz itself (`@hpcc-js/wasm-graphviz`, Graphviz compiled to
 *   WebAssembly), laying the graph out and printing it as Graphviz JSON.
 *
 * Neither needs a system package or a browser.
 */

import { Graphviz } from '@hpcc-js/wasm-graphviz';
import { JSDOM } from 'jsdom';

/** A graph as a parser read it, with nodes named by the plan ids their labels show. */
export interface ParsedGraph {
  /** In the order the parser lists them. */
  nodes: { label: string; shape: string }[];
  /** `from` and `to` are node labels. */
  edges: { from: string; to: string; dashed: boolean; label: string }[];
  /** Subgraphs (Mermaid) or clusters (DOT): their title and the labels of their nodes. */
  groups: { label: string; members: string[] }[];
}

let window: JSDOM['window'] | undefined;

type MermaidApi = typeof import('mermaid').default;
let mermaidApi: Promise<MermaidApi> | undefined;

function loadMermaid(): Promise<MermaidApi> {
  if (!mermaidApi) {
    window = new JSDOM('').window;
    // DOMPurify (imported by mermaid) looks for a global window when it loads.
    Object.assign(globalThis, { window, document: window.document });
    mermaidApi = import('mermaid').then((m) => m.default);
  }
  return mermaidApi;
}

/**
 * Mermaid keeps entity codes (`#quot;`, `#35;`) encoded in the parsed text
 * (`ﬂ°°` for `&#`, `ﬂ°` for `&`, `¶ß` for `;`) and turns them into HTML
 * entities only when it draws; this decodes them the same way, then lets the
 * DOM read the HTML entities.
 */
function mermaidLabel(text: string): string {
  const html = text.replaceAll('ﬂ°°', '&#').replaceAll('ﬂ°', '&').replaceAll('¶ß', ';');
  const el = (window as NonNullable<typeof window>).document.createElement('textarea');
  el.innerHTML = html;
  return el.value;
}

interface FlowVertex {
  id: string;
  text?: string;
  type?: string;
}
interface FlowEdge {
  start: string;
  end: string;
  stroke?: string;
  text?: string;
}
interface FlowSubGraph {
  id: string;
  title: string;
  nodes: string[];
}
interface FlowDb {
  getVertices(): Map<string, FlowVertex>;
  getEdges(): FlowEdge[];
  getSubGraphs(): FlowSubGraph[];
}

/**
 * Parses a Mermaid flowchart with Mermaid's parser.
 * @throws the parser's error when the text is not a valid flowchart.
 */
export async function parseMermaid(text: string): Promise<ParsedGraph & { type: string }> {
  const mermaid = await loadMermaid();
  // parse() registers the diagram types and throws on a syntax error.
  await mermaid.parse(text);
  const diagram = await mermaid.mermaidAPI.getDiagramFromText(text);
  const db = diagram.db as unknown as FlowDb;
  const vertices = [...db.getVertices().values()];
  const labelOf = new Map(vertices.map((v) => [v.id, mermaidLabel(v.text ?? v.id)]));
  const label = (id: string) => labelOf.get(id) ?? id;
  return {
    type: diagram.type,
    nodes: vertices.map((v) => ({ label: label(v.id), shape: v.type ?? '' })),
    edges: db.getEdges().map((e) => ({
      from: label(e.start),
      to: label(e.end),
      dashed: e.stroke === 'dotted',
      label: mermaidLabel(e.text ?? ''),
    })),
    groups: db.getSubGraphs().map((s) => ({
      label: mermaidLabel(s.title),
      members: s.nodes.map(label),
    })),
  };
}

interface GvObject {
  _gvid: number;
  name: string;
  label?: string;
  shape?: string;
  nodes?: number[];
}
interface GvEdge {
  tail: number;
  head: number;
  style?: string;
  label?: string;
}

let graphviz: ReturnType<typeof Graphviz.load> | undefined;

/**
 * Lays a DOT graph out with Graphviz and reads back its JSON form. Node
 * labels are the node names (Graphviz's default label `\N`), cluster labels
 * their `label`.
 * @throws Graphviz's error (`syntax error in line …`) when the text is not DOT.
 */
export async function parseDot(text: string): Promise<ParsedGraph & { name: string }> {
  graphviz ??= Graphviz.load();
  const gv = await graphviz;
  const json = JSON.parse(gv.dot(text, 'json')) as {
    name: string;
    _subgraph_cnt: number;
    objects?: GvObject[];
    edges?: GvEdge[];
  };
  const objects = json.objects ?? [];
  const clusters = objects.slice(0, json._subgraph_cnt);
  const nodes = objects.slice(json._subgraph_cnt);
  const nameOf = new Map(nodes.map((n) => [n._gvid, n.name]));
  const name = (id: number) => nameOf.get(id) ?? `#${id}`;
  return {
    name: json.name,
    nodes: nodes.map((n) => ({ label: n.name, shape: n.shape ?? '' })),
    edges: (json.edges ?? []).map((e) => ({
      from: name(e.tail),
      to: name(e.head),
      dashed: e.style === 'dashed',
      label: e.label ?? '',
    })),
    groups: clusters.map((c) => ({ label: c.label ?? '', members: (c.nodes ?? []).map(name) })),
  };
}

/** Graphviz's version, to show which one read the graphs. */
export async function graphvizVersion(): Promise<string> {
  graphviz ??= Graphviz.load();
  return (await graphviz).version();
}
