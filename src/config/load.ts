/**
 * Text → YAML documents, with a map from JSON paths back to source positions.
 *
 * Positions come from the `yaml` package's node ranges (offsets) and the
 * line starts of the text, never from searching the text.
 */

import {
  type Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  type Node,
  type Pair,
  parseAllDocuments,
  type YAMLMap,
} from 'yaml';
import type { Diagnostic } from './diagnostics.js';
import { duplicateKeys } from './keys.js';
import {
  conversionProblem,
  dataProblem,
  exhaustionProblem,
  type LimitProblem,
  MAX_ALIAS_COUNT,
  nestingProblem,
} from './limits.js';
import { unclosedQuoteAt } from './quotes.js';

/** A span in a file: 1-based line and column; the end is one past the last character. */
export interface SourceRange {
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

/** Which part of a mapping entry to point at. */
export type LocateTarget = 'value' | 'key';

/** One YAML document of a file, as data plus a way back to its text. */
export interface SourceDocument {
  /** 0-based index of the document in its file. */
  index: number;
  /** The document as plain data (`toJS`); `null` for an empty document. */
  data: unknown;
  /** True when the YAML had errors that make `data` unreliable (everything but duplicate keys). */
  broken: boolean;
  /**
   * Range of the node at a JSON pointer (`/spec/steps/build/needs/0`, or
   * segments). `key` points at the key of a mapping entry (for unknown or
   * misnamed keys); `value` at its value, or at the key when the value is
   * empty. A path that does not exist resolves to its deepest existing
   * ancestor, so a diagnostic always has a position.
   */
  locate(path: string | readonly string[], target?: LocateTarget): SourceRange;
  /** The scalar's text as written in the file (`1.10` stays `1.10`), when the node at `path` is a plain scalar. */
  scalarSource(path: string | readonly string[]): string | undefined;
  /**
   * The range of `length` characters at `offset` (UTF-16) in the string value
   * at `path`: where an expression problem inside a string is in the file.
   * Block scalars, quoting and escapes are followed by anchoring at the
   * `${{` the offset belongs to and walking the source from there; a path
   * that is not a string scalar gives the value's own range.
   */
  locateInValue(path: string | readonly string[], offset: number, length: number): SourceRange;
}

/** The result of parsing one file's text. */
export interface ParsedSource {
  documents: SourceDocument[];
  /** `yaml/syntax`, `yaml/duplicate-key` (errors) and `yaml/warning` (warnings). */
  diagnostics: Diagnostic[];
}

/** Splits a JSON pointer (RFC 6901) into unescaped segments. */
export function pointerSegments(path: string | readonly string[]): string[] {
  if (typeof path !== 'string') return [...path];
  if (path === '' || path === '/') return [];
  return path
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/**
 * Parses every document of a file. Never throws: YAML errors become
 * `yaml/syntax` diagnostics at their position (a duplicate key becomes
 * `yaml/duplicate-key` at the second occurrence).
 *
 * Options: YAML 1.2 core schema (`yes`/`on` stay strings), merge keys (`<<`)
 * on, duplicate keys rejected.
 *
 * Hostile documents are refused, each with one diagnostic, and marked
 * broken (see `limits.ts`): nesting deeper than `MAX_NESTING` levels
 * (`yaml/too-deep`), aliases that expand to too much data
 * (`yaml/alias-limit`) or into themselves (`yaml/alias-cycle`).
 */
export function parseSource(options: { file: string; text: string }): ParsedSource {
  const { file, text } = options;
  const docs = parseAllDocuments(text, {
    // Duplicate keys are found by duplicateKeys, in linear time.
    uniqueKeys: false,
    prettyErrors: false,
    // The parser's warnings are diagnostics (yaml/warning), never process
    // warnings on stderr (e.g. "Keys with collection values will be stringified").
    logLevel: 'error',
    merge: true,
  });
  const list = Array.isArray(docs) ? docs : [];
  const diagnostics: Diagnostic[] = [];
  // Line starts from the text itself: the parser's LineCounter misses the
  // line breaks inside a token it gives up on, which put positions after a
  // syntax error past the end of their line.
  const lineStarts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  const position = (offset: number): { line: number; column: number } => {
    const at = Math.max(0, Math.min(offset, text.length));
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((lineStarts[mid] as number) <= at) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: at - (lineStarts[lo] as number) + 1 };
  };
  const rangeOf = (start: number, end: number): SourceRange => {
    const a = position(start);
    const b = position(Math.max(start, end));
    return { line: a.line, column: a.column, endLine: b.line, endColumn: b.column };
  };
  if (!Array.isArray(docs)) {
    // An empty stream: parseAllDocuments returns an EmptyStream.
    return { documents: [], diagnostics };
  }

  const documents: SourceDocument[] = [];
  /** A {@link LimitProblem} as a diagnostic, at its offsets or its data path (unknown paths resolve to their nearest ancestor). */
  const limitDiagnostic = (
    problem: LimitProblem,
    locate?: SourceDocument['locate'],
  ): Diagnostic => ({
    code: problem.code,
    severity: 'error',
    message: problem.message,
    file,
    ...(problem.range || !locate
      ? rangeOf(problem.range?.[0] ?? 0, problem.range?.[1] ?? 0)
      : locate(problem.path ?? [])),
    hint: problem.hint,
  });
  list.forEach((doc, index) => {
    let broken = false;
    let exhausted = false;
    for (const err of doc.errors) {
      const [start, end] = err.pos;
      broken = true;
      if (err.code === 'RESOURCE_EXHAUSTION') {
        // The composer ran out of stack: nesting far beyond MAX_NESTING. One diagnostic per document.
        if (!exhausted) diagnostics.push(limitDiagnostic(exhaustionProblem([start, end])));
        exhausted = true;
        continue;
      }
      const hint = YAML_HINTS[err.code];
      const quote = /^Missing closing (["'])quote/.exec(err.message)?.[1];
      const opened = quote ? unclosedQuoteAt(doc, start) : undefined;
      if (quote && opened) {
        // Point at the quote that was opened, not at the end of the text it swallowed.
        const first = position(opened[0]);
        diagnostics.push({
          code: 'yaml/syntax',
          severity: 'error',
          message: `the string opened with ${quote} here is not closed`,
          file,
          ...rangeOf(opened[0], opened[0] + 1),
          hint: `add the closing ${quote}${position(opened[1]).line > first.line ? '; a quoted string runs on across lines until it is closed' : ''}`,
        });
        continue;
      }
      diagnostics.push({
        code: 'yaml/syntax',
        severity: 'error',
        message: yamlMessage(err.message),
        file,
        ...rangeOf(start, end),
        ...(hint ? { hint } : {}),
      });
    }
    for (const dup of duplicateKeys(doc)) {
      diagnostics.push({
        code: 'yaml/duplicate-key',
        severity: 'error',
        message: `duplicate key "${dup.key}"; a key may appear only once in a mapping`,
        file,
        ...rangeOf(dup.range[0], dup.range[1]),
      });
    }
    for (const warning of doc.warnings) {
      const [start, end] = warning.pos;
      diagnostics.push({
        code: 'yaml/warning',
        severity: 'warning',
        message: yamlMessage(warning.message),
        file,
        ...rangeOf(start, end),
      });
    }
    let data: unknown = null;
    const deep = broken ? undefined : nestingProblem(doc);
    if (deep) {
      broken = true;
      diagnostics.push(limitDiagnostic(deep));
    }
    if (!broken) {
      try {
        data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
      } catch (err) {
        broken = true;
        data = null;
        const start = doc.contents?.range[0] ?? 0;
        const problem = conversionProblem(doc, err);
        diagnostics.push(
          problem
            ? limitDiagnostic(problem)
            : {
                code: 'yaml/syntax',
                severity: 'error',
                message: yamlMessage(err instanceof Error ? err.message : String(err)),
                file,
                ...rangeOf(start, start + 1),
              },
        );
      }
    }
    const locate = (path: string | readonly string[], target: LocateTarget = 'value') => {
      const found = walk(doc, pointerSegments(path));
      const { node, pair } = found;
      if (target === 'key' && pair && isNode(pair.key) && pair.key.range) {
        return rangeOf(pair.key.range[0], pair.key.range[1]);
      }
      if (node?.range && node.range[1] > node.range[0]) {
        return rangeOf(node.range[0], node.range[1]);
      }
      if (pair && isNode(pair.key) && pair.key.range) {
        return rangeOf(pair.key.range[0], pair.key.range[1]);
      }
      const start = doc.contents?.range[0] ?? doc.range[0];
      return rangeOf(start, start);
    };
    const scalarSource = (path: string | readonly string[]) => {
      const found = walk(doc, pointerSegments(path));
      // `I: *v` reads the scalar the anchor `&v` is on.
      const node = isAlias(found.node) ? found.node.resolve(doc) : found.node;
      if (!found.exact || !isScalar(node)) return undefined;
      return node.type === 'PLAIN' ? node.source : undefined;
    };
    const locateInValue = (path: string | readonly string[], offset: number, length: number) => {
      const found = walk(doc, pointerSegments(path));
      const node = found.node;
      if (!found.exact || !isScalar(node) || typeof node.value !== 'string' || !node.range) {
        return locate(path);
      }
      const [start, end] = node.range;
      const map = valueOffsetMapper(node.value, text.slice(start, end));
      const a = start + map(offset);
      return rangeOf(a, Math.max(a + 1, start + map(offset + Math.max(1, length) - 1) + 1));
    };
    const shape = broken ? undefined : dataProblem(data);
    if (shape) {
      broken = true;
      data = null;
      diagnostics.push(limitDiagnostic(shape, locate));
    }
    documents.push({ index, data, broken, locate, scalarSource, locateInValue });
  });
  return { documents, diagnostics };
}

/** Fixes for the YAML mistakes people make most, by the `yaml` package's error code. */
const YAML_HINTS: Record<string, string> = {
  BLOCK_AS_IMPLICIT_KEY: 'quote a value that contains ": ", e.g. run: "echo a: b"',
  TAB_AS_INDENT: 'indent with spaces; YAML does not allow tabs for indentation',
  MISSING_CHAR: 'close the quote or bracket that was opened',
  BAD_INDENT: 'align the keys of a mapping at the same column',
};

function isNode(value: unknown): value is Node {
  return isScalar(value) || isMap(value) || isSeq(value) || isAlias(value);
}

/** The text of a yaml error message, lower-cased first letter, first line only. */
function yamlMessage(message: string): string {
  const first = (message.split('\n')[0] ?? message).trim().replace(/\.$/, '');
  return first.charAt(0).toLowerCase() + first.slice(1);
}

/** True for the key of a YAML merge (`<<: *anchor`): a plain `<<`, as the parser marks it. */
function isMergeKey(key: unknown): boolean {
  if (!isScalar(key)) return false;
  if (typeof key.value === 'symbol') return key.value.description === '<<';
  return key.value === '<<' && (key.type === undefined || key.type === 'PLAIN');
}

/** The entries of one mapping by key, for O(1) lookups (see {@link mapIndex}). */
interface MapIndex {
  /** Own entries by key (`String(key)`); where a key repeats, the last one. */
  own: Map<string, Pair>;
  /** The mapping's merge entries (`<<: ...`), in order. */
  merges: Pair[];
}

const mapIndexes = new WeakMap<YAMLMap, MapIndex>();

/**
 * The index of a mapping's entries, built on first use and cached for the
 * mapping's lifetime (parsed documents are not changed afterwards). Built in
 * one pass over the entries, so looking up every key of a mapping is linear
 * in its size, not quadratic.
 */
function mapIndex(map: YAMLMap): MapIndex {
  let index = mapIndexes.get(map);
  if (index) return index;
  index = { own: new Map(), merges: [] };
  for (const item of map.items) {
    if (!isPair(item)) continue;
    if (isMergeKey(item.key)) index.merges.push(item);
    else if (isScalar(item.key)) index.own.set(String(item.key.value), item);
  }
  mapIndexes.set(map, index);
  return index;
}

/**
 * The entry of `map` for `key` as the data sees it: the map's own entry (the
 * last one, where a key repeats), else the first entry found in its merge
 * sources (`<<: *a` or `<<: [*a, *b]`, in order, recursively), as YAML merge
 * keys resolve: a map's own keys win over merged ones, earlier sources over
 * later ones. O(1) per mapping visited (see {@link mapIndex}).
 */
function findEntry(
  doc: Document,
  map: YAMLMap,
  key: string,
  seen: Set<YAMLMap> = new Set(),
): Pair | undefined {
  seen.add(map);
  const index = mapIndex(map);
  const own = index.own.get(key);
  if (own) return own;
  for (const item of index.merges) {
    const value = isAlias(item.value) ? item.value.resolve(doc) : item.value;
    const sources = isSeq(value) ? value.items : [value];
    for (const source of sources) {
      const resolved = isAlias(source) ? source.resolve(doc) : source;
      if (!isMap(resolved) || seen.has(resolved)) continue;
      const found = findEntry(doc, resolved, key, seen);
      if (found) return found;
    }
  }
  return undefined;
}

/**
 * Follows JSON path segments through maps and sequences, aliases and merge
 * keys (a key merged in with `<<` is found where its anchor defines it).
 * Where a key repeats, the last one wins, as in the data. Stops at the
 * deepest node that exists. The node reached may itself be an alias.
 */
function walk(
  doc: Document,
  segments: readonly string[],
): { node: Node | null | undefined; pair?: Pair; exact: boolean } {
  let node: unknown = doc.contents;
  let pair: Pair | undefined;
  for (const segment of segments) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const next = findEntry(doc, node, segment);
      if (!next) return { node: node as Node, pair, exact: false };
      pair = next;
      node = next.value;
    } else if (isSeq(node)) {
      const item = node.items[Number(segment)];
      if (!/^[0-9]+$/.test(segment) || item === undefined) {
        return { node: node as Node, pair, exact: false };
      }
      pair = undefined;
      node = item;
    } else {
      return { node: isNode(node) ? node : undefined, pair, exact: false };
    }
  }
  return { node: isNode(node) ? node : undefined, pair, exact: true };
}

/**
 * Maps an offset in a scalar's value to an offset in its source text: the
 * `${{` the offset follows is found in both (the n-th one of the value is
 * the n-th one of the source: quoting and block indentation never create or
 * hide one), then characters are matched forward, skipping source
 * characters the value does not have (indentation, line folding, escapes).
 */
function valueOffsetMapper(value: string, raw: string): (offset: number) => number {
  return (offset) => {
    const target = Math.max(0, Math.min(offset, value.length));
    const anchor = value.lastIndexOf('${{', target);
    let i = 0;
    let j = 0;
    if (anchor >= 0) {
      let n = 0;
      for (let k = value.indexOf('${{'); k >= 0 && k < anchor; k = value.indexOf('${{', k + 1)) n++;
      let r = raw.indexOf('${{');
      for (; n > 0 && r >= 0; n--) r = raw.indexOf('${{', r + 1);
      if (r < 0) return 0;
      i = anchor;
      j = r;
    }
    while (i < target && j < raw.length) {
      if (value[i] === raw[j]) i++;
      j++;
    }
    return Math.min(j, Math.max(0, raw.length - 1));
  };
}
