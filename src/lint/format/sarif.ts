/**
 * `agent lint --format sarif`: diagnostics as a SARIF 2.1.0 log, as GitHub
 * code scanning (`github/codeql-action/upload-sarif`) and other SARIF
 * viewers read it.
 *
 * Shape (OASIS SARIF 2.1.0, section numbers of the standard):
 * - one `run` (§3.14) whose `tool.driver` (§3.19) is `agentfile` with its
 *   version and every rule of {@link RULES} as a `reportingDescriptor`
 *   (§3.49: id, name, short/full description, help text and markdown,
 *   helpUri, defaultConfiguration.level), so code scanning shows the rule's
 *   metadata for every alert; a reported code missing from RULES gets a bare
 *   descriptor, so `ruleIndex` always points into the list;
 * - one `result` (§3.27) per diagnostic: ruleId, ruleIndex, level (`error` /
 *   `warning`), message.text (the hint on a second line), one location whose
 *   artifactLocation.uri (§3.4) is the file's POSIX path relative to the
 *   working directory with `uriBaseId` `%SRCROOT%` (§3.14.14
 *   `originalUriBaseIds` maps it to the directory's `file:` URI), and a region
 *   (§3.30) with 1-based start/end line and column (`columnKind`
 *   `utf16CodeUnits`; endColumn is one past the last character);
 *   a file outside the working directory gets an absolute `file:` URI;
 * - `partialFingerprints` (§3.27.17) `agentfile/v1`: see
 *   {@link fingerprint}. A clean run has `results: []`, which tells code
 *   scanning that earlier alerts are fixed.
 *
 * Sources: OASIS "Static Analysis Results Interchange Format (SARIF) Version
 * 2.1.0" (errata01); GitHub Docs, "SARIF support for code scanning".
 */

import { createHash } from 'node:crypto';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Log, ReportingDescriptor, Result } from 'sarif';
import type { Diagnostic } from '../../config/diagnostics.js';
import { helpUri, RULES, type RuleInfo } from '../../config/rules/index.js';

/** `$schema` of the log: the OASIS SARIF 2.1.0 JSON Schema (errata01). */
export const SARIF_SCHEMA_URI =
  'https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json';

/** `tool.driver.informationUri`. */
export const TOOL_URI = 'https://agentfile.dev';

/** The `uriBaseId` of every relative artifact location: the working directory. */
export const SRCROOT = '%SRCROOT%';

/** What {@link toSarif} needs besides the diagnostics. */
export interface SarifOptions {
  /** Absolute directory the diagnostics' `file` names are relative to; it is `%SRCROOT%`. */
  cwd: string;
  /** Source text by diagnostic `file`, for fingerprints; a file without text still gets one. */
  sources: ReadonlyMap<string, string>;
  /** agentfile's version (`tool.driver.version`), e.g. `0.1.0`. */
  version: string;
  /** The rules to describe; default {@link RULES}. */
  rules?: readonly RuleInfo[];
}

/** Builds the SARIF 2.1.0 log of one lint run. Pure apart from hashing. */
export function toSarif(diagnostics: readonly Diagnostic[], opts: SarifOptions): Log {
  const known = [...(opts.rules ?? RULES)];
  const index = new Map(known.map((r, i) => [r.id, i]));
  const descriptors: ReportingDescriptor[] = known.map(descriptor);
  for (const d of diagnostics) {
    if (index.has(d.code)) continue;
    index.set(d.code, descriptors.length);
    descriptors.push({ id: d.code, name: ruleName(d.code) });
  }
  const occurrences = new Map<string, number>();
  const results = diagnostics.map((d): Result => {
    const location = artifactLocation(d.file, opts.cwd);
    const base = fingerprint(d, location.uri, opts.sources.get(d.file));
    const n = (occurrences.get(base) ?? 0) + 1;
    occurrences.set(base, n);
    return {
      ruleId: d.code,
      ruleIndex: index.get(d.code) ?? -1,
      level: d.severity === 'warning' ? 'warning' : 'error',
      message: { text: d.hint ? `${d.message}\nhint: ${d.hint}` : d.message },
      locations: [{ physicalLocation: { artifactLocation: location, region: region(d) } }],
      partialFingerprints: { 'agentfile/v1': `${base}:${n}` },
    };
  });
  return {
    $schema: SARIF_SCHEMA_URI,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'agentfile',
            version: opts.version,
            ...(/^\d+\.\d+\.\d+/.test(opts.version) ? { semanticVersion: opts.version } : {}),
            informationUri: TOOL_URI,
            rules: descriptors,
          },
        },
        originalUriBaseIds: { [SRCROOT]: { uri: directoryUri(opts.cwd) } },
        columnKind: 'utf16CodeUnits',
        results,
      },
    ],
  };
}

/**
 * The stable part of a result's `partialFingerprints['agentfile/v1']`: the
 * SHA-256 (hex) of the rule id, the artifact URI, the offending line's text
 * with surrounding white space trimmed, and the offending token (the text
 * from the start column to the end column on that line), NUL-separated.
 * {@link toSarif} appends `:N`, the result's 1-based occurrence among results
 * of the same hash, in report order.
 *
 * Line and column numbers and the message are left out, so the fingerprint
 * survives lines inserted above the problem, re-indentation and reworded
 * messages; it changes when the offending line itself, the file's path or the
 * rule changes. A diagnostic whose file has no text (e.g. `file/not-found`)
 * hashes an empty line.
 */
export function fingerprint(d: Diagnostic, uri: string | undefined, source?: string): string {
  const line = source?.split(/\r?\n/)[d.line - 1] ?? '';
  const end = d.endLine === d.line && d.endColumn !== undefined ? d.endColumn - 1 : undefined;
  const token = line.slice(d.column - 1, end);
  return createHash('sha256')
    .update([d.code, uri ?? '', line.trim(), token.trim()].join('\0'))
    .digest('hex');
}

/** A rule's `reportingDescriptor` (§3.49). */
function descriptor(rule: RuleInfo): ReportingDescriptor {
  const summary = sentence(rule.summary);
  const uri = helpUri(rule);
  return {
    id: rule.id,
    name: ruleName(rule.id),
    shortDescription: { text: summary },
    fullDescription: {
      text: `${summary}. Reported as ${rule.severity === 'warning' ? 'a warning' : 'an error'} by default.`,
    },
    helpUri: uri,
    help: {
      text: `${summary}. Rule ${rule.id}; see ${uri}`,
      markdown: `**${rule.id}**: ${rule.summary}.\n\nSee [the rule's documentation](${uri}).`,
    },
    defaultConfiguration: { level: rule.severity === 'warning' ? 'warning' : 'error' },
    properties: { tags: ['agentfile', rule.category] },
  };
}

/**
 * `reportingDescriptor.name` (§3.49.7, "a report identifier that is
 * understandable to an end user", beside the opaque `id`): the id's words in
 * PascalCase, `schema/unknown-key` → `SchemaUnknownKey`.
 */
export function ruleName(id: string): string {
  return id
    .split(/[^A-Za-z0-9]+/)
    .filter((part) => part !== '')
    .map((part) => part[0]?.toUpperCase() + part.slice(1))
    .join('');
}

/** `artifactLocation` (§3.4) of a diagnostic's file: relative to `%SRCROOT%` when inside cwd. */
function artifactLocation(file: string, cwd: string): { uri: string; uriBaseId?: string } {
  const absolute = resolve(cwd, file);
  const rel = relative(cwd, absolute);
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    return { uri: pathToFileURL(absolute).href };
  }
  return { uri: rel.split(sep).map(encodeURIComponent).join('/'), uriBaseId: SRCROOT };
}

/** The `file:` URI of a directory, with the trailing slash SARIF requires of a base URI (§3.14.14). */
function directoryUri(dir: string): string {
  const href = pathToFileURL(resolve(dir)).href;
  return href.endsWith('/') ? href : `${href}/`;
}

/** `region` (§3.30): 1-based; an end before the start is left out. */
function region(d: Diagnostic): {
  startLine: number;
  startColumn: number;
  endLine?: number;
  endColumn?: number;
} {
  const start = { startLine: Math.max(1, d.line), startColumn: Math.max(1, d.column) };
  if (d.endLine === undefined || d.endLine < start.startLine) return start;
  if (d.endColumn === undefined) return { ...start, endLine: d.endLine };
  if (d.endLine === start.startLine && d.endColumn < start.startColumn) return start;
  return { ...start, endLine: d.endLine, endColumn: d.endColumn };
}

/** The summary as a sentence start: first letter upper case, no trailing period. */
function sentence(summary: string): string {
  const text = summary.replace(/\.$/, '');
  return text.charAt(0).toUpperCase() + text.slice(1);
}
