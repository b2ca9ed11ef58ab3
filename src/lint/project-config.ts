/**
 * `.agentlint.yaml`: per-repository settings of `agent lint`.
 *
 * ```yaml
 * rules:
 *   policy/latest-tag: off        # off | warning | error
 *   policy/image-digest: warning  # turn on a rule that is off by default
 * ignore:                         # files the policy rules skip (picomatch globs,
 *   - fixtures/**                 # relative to this file's directory)
 * ```
 *
 * Found in the linted file's directory or the nearest ancestor up to the
 * repository root (the nearest directory with `.git`); `agent lint --config
 * FILE` names one instead. Only policy and lint rules (but `lint/config`)
 * can be configured.
 */

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import picomatch from 'picomatch';
import type { Diagnostic } from '../config/diagnostics.js';
import { parseSource } from '../config/load.js';
import { RULES, ruleInfo } from '../config/rules/index.js';
import { repositoryRoot } from '../config/rules/policy/repository.js';
import { quoteList, suggestion } from '../config/suggest.js';

/** The config file's name. */
export const CONFIG_NAME = '.agentlint.yaml';

/** What a rule is set to: `off` does not run it; `warning` and `error` set its severity. */
export type RuleLevel = 'off' | 'warning' | 'error';

const LEVELS: readonly RuleLevel[] = ['off', 'warning', 'error'];
const KEYS = ['rules', 'ignore'];

/** A read `.agentlint.yaml` (its valid parts, when it has problems). */
export interface ProjectConfig {
  /** Absolute path of the config file. */
  path: string;
  /** Rule id → level, for the rules it sets. */
  rules: ReadonlyMap<string, RuleLevel>;
  /** The `ignore` globs, as written. */
  ignore: readonly string[];
  /** True when the absolute `file` matches an `ignore` glob (relative to the config's directory). */
  isIgnored(file: string): boolean;
}

/** What {@link loadProjectConfig} returns. */
export interface ProjectConfigResult {
  config?: ProjectConfig;
  /** `lint/config` errors at their positions in the config file. */
  diagnostics: Diagnostic[];
  /** The config's name in diagnostics → its text, for snippets. */
  sources: Map<string, string>;
}

/**
 * The `.agentlint.yaml` that applies to a file in `dir`: in `dir` or the
 * nearest ancestor, not above the repository root. Undefined when none.
 */
export function findProjectConfig(dir: string): string | undefined {
  const root = repositoryRoot(dir);
  let current = path.resolve(dir);
  for (;;) {
    const candidate = path.join(current, CONFIG_NAME);
    if (existsSync(candidate)) return candidate;
    if (current === root) return undefined;
    const parent = path.dirname(current);
    if (parent === current) return undefined;
    current = parent;
  }
}

/**
 * Reads and validates a config file. Never throws: an unreadable file, YAML
 * errors, unknown keys, unknown rule ids (with a did-you-mean), rules that
 * cannot be configured and bad levels are `lint/config` errors.
 *
 * @param abs absolute path of the file.
 * @param file its name in diagnostics (relative to the working directory).
 */
export async function loadProjectConfig(abs: string, file: string): Promise<ProjectConfigResult> {
  const diagnostics: Diagnostic[] = [];
  const sources = new Map<string, string>();
  const error = (
    message: string,
    at: { line: number; column: number; endLine?: number; endColumn?: number },
    hint?: string,
  ) =>
    diagnostics.push({
      code: 'lint/config',
      severity: 'error',
      message,
      file,
      ...at,
      ...(hint ? { hint } : {}),
    });
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch {
    error(
      `the lint config ${JSON.stringify(file)} cannot be read; give the path of an ${CONFIG_NAME} file`,
      { line: 1, column: 1 },
    );
    return { diagnostics, sources };
  }
  sources.set(file, text);
  const parsed = parseSource({ file, text });
  for (const d of parsed.diagnostics)
    diagnostics.push({ ...d, code: 'lint/config', severity: 'error' });
  const rules = new Map<string, RuleLevel>();
  const ignore: string[] = [];
  const doc = parsed.documents[0];
  if (parsed.documents.length > 1 && parsed.documents[1]) {
    error(
      `the lint config has ${parsed.documents.length} YAML documents; write one`,
      parsed.documents[1].locate([]),
    );
  }
  const data = doc && !doc.broken ? doc.data : null;
  if (doc && data !== null && (typeof data !== 'object' || Array.isArray(data))) {
    error('the lint config must be a mapping with "rules" and "ignore"', doc.locate([]));
  } else if (doc && data !== null) {
    const map = data as Record<string, unknown>;
    for (const key of Object.keys(map)) {
      if (!KEYS.includes(key))
        error(
          `unknown key ${JSON.stringify(key)}${suggestion(key, KEYS)}`,
          doc.locate([key], 'key'),
        );
    }
    // lint/config reports this file itself: it cannot turn itself off.
    const configurable = RULES.filter(
      (r) => (r.category === 'policy' || r.category === 'lint') && r.id !== 'lint/config',
    ).map((r) => r.id);
    if (map.rules !== undefined && map.rules !== null) {
      if (typeof map.rules !== 'object' || Array.isArray(map.rules)) {
        error(
          '"rules" must be a mapping of rule ids to off, warning or error',
          doc.locate(['rules']),
        );
      } else {
        for (const [id, level] of Object.entries(map.rules as Record<string, unknown>)) {
          const info = ruleInfo(id);
          if (!info) {
            error(
              `unknown rule ${JSON.stringify(id)}${suggestion(id, configurable)}`,
              doc.locate(['rules', id], 'key'),
            );
            continue;
          }
          if (!configurable.includes(id)) {
            error(
              id === 'lint/config'
                ? '"lint/config" cannot be configured: it reports the problems of this file; fix them instead'
                : `${JSON.stringify(id)} cannot be configured: only policy and lint rules can; fix the problem instead`,
              doc.locate(['rules', id], 'key'),
            );
            continue;
          }
          // YAML 1.2 reads `off` as a string; `false` is accepted as off too.
          const value = level === false ? 'off' : level;
          if (typeof value !== 'string' || !LEVELS.includes(value as RuleLevel)) {
            error(
              `${JSON.stringify(level)} is not a rule level; expected one of ${quoteList(LEVELS)}`,
              doc.locate(['rules', id]),
            );
            continue;
          }
          rules.set(id, value as RuleLevel);
        }
      }
    }
    if (map.ignore !== undefined && map.ignore !== null) {
      if (!Array.isArray(map.ignore)) {
        error('"ignore" must be a list of globs, e.g. [fixtures/**]', doc.locate(['ignore']));
      } else {
        map.ignore.forEach((g, i) => {
          if (typeof g === 'string' && g !== '') ignore.push(g);
          else
            error(
              'an "ignore" entry must be a non-empty glob string',
              doc.locate(['ignore', String(i)]),
            );
        });
      }
    }
  }
  const dir = path.dirname(abs);
  const match = ignore.length > 0 ? picomatch(ignore, { dot: true }) : undefined;
  const config: ProjectConfig = {
    path: abs,
    rules,
    ignore,
    isIgnored(target: string) {
      if (!match) return false;
      const rel = path.relative(dir, target);
      if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return false;
      return match(rel.split(path.sep).join('/'));
    },
  };
  return { config, diagnostics, sources };
}
