/** What `agent lint` needs for the policy pass of one file: its options and the config's problems. */

import path from 'node:path';
import type { Diagnostic } from '../config/diagnostics.js';
import type { PolicyOptions } from './policy.js';
import { findProjectConfig, loadProjectConfig } from './project-config.js';

/**
 * The {@link PolicyOptions} for linting `file`: `--strict`, and the
 * `.agentlint.yaml` given with `--config` (relative to `cwd`) or else the
 * nearest one ({@link findProjectConfig}). Returns the config's `lint/config`
 * diagnostics and its text (for snippets). Never throws.
 */
export async function lintPolicy(
  file: string,
  opts: { strict?: boolean; config?: string },
  cwd: string,
): Promise<{ options: PolicyOptions; diagnostics: Diagnostic[]; sources: Map<string, string> }> {
  const abs = opts.config
    ? path.resolve(cwd, opts.config)
    : findProjectConfig(path.dirname(path.resolve(cwd, file)));
  const options: PolicyOptions = { strict: opts.strict === true };
  if (!abs) return { options, diagnostics: [], sources: new Map() };
  const loaded = await loadProjectConfig(abs, path.relative(cwd, abs) || path.basename(abs));
  if (loaded.config) options.config = loaded.config;
  return { options, diagnostics: loaded.diagnostics, sources: loaded.sources };
}
