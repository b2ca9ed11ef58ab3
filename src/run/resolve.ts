/**
 * A step as it runs: its `${{ }}` expressions rendered with the step's
 * contexts when it starts, and its `if:` decided. Pure (the contexts are
 * handed in); see docs/expressions.md for the contexts and
 * docs/file-format.md for where expressions may appear.
 *
 * Values reach a step as data, never as code:
 *
 * - in a `run:` script (`sh -c`), each `${{ … }}` is replaced by a reference
 *   to an environment variable, `${AGENT_EXPR_<n>}`, that holds the value:
 *   the shell expands it as it expands any variable, and never parses the
 *   value as shell syntax (`; rm -rf /`, `$(…)` and backquotes stay text).
 *   Quote it as you would any variable (`"${{ x }}"`) to keep spaces and
 *   globs as they are. The script text, which `ps` shows and logs keep,
 *   holds no value, so secrets stay out of it;
 * - in `command:` items, `env` values, `image` and `workdir`, the value is
 *   spliced into that one string, which is handed on as one argv item or one
 *   variable: no shell reads it (unless the argv itself runs a shell with it).
 */

import path from 'node:path';
import type { StepSpec } from '../config/model.js';
import { parseDuration } from '../config/units.js';
import {
  type ConditionContext,
  type EvalContext,
  ExpressionEvalError,
  evaluateCondition,
  renderTemplate,
  scanTemplate,
} from '../expr/index.js';

/** A step's runnable fields, expressions rendered. */
export interface ResolvedStep {
  /** argv. */
  command: string[];
  /** The step's env rendered, plus `AGENT_EXPR_<n>` for a `run:` script's expressions. */
  env: Record<string, string>;
  image?: string;
  /** Absolute for process steps. */
  workdir?: string;
  timeoutMs?: number;
}

/** A step could not be resolved: an expression failed, or a rendered timeout is not a duration. */
export class ResolveError extends Error {
  override name = 'ResolveError';
}

/** Prefix of the variables that carry a `run:` script's expression values. */
export const EXPR_VARIABLE_PREFIX = 'AGENT_EXPR_';

function render(text: string, ctx: EvalContext, field: string): string {
  if (!text.includes('${{')) return text;
  try {
    return renderTemplate(text, ctx);
  } catch (error) {
    throw new ResolveError(`${field}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * A `run:` script with each `${{ … }}` replaced by `${AGENT_EXPR_<n>}` (n
 * from 1, in order), and the variables' values.
 */
export function scriptWithVariables(
  script: string,
  ctx: EvalContext,
): { script: string; env: Record<string, string> } {
  if (!script.includes('${{')) return { script, env: {} };
  const scanned = scanTemplate(script);
  const unclosed = scanned.errors[0];
  if (unclosed) throw new ResolveError(`run: ${unclosed.message}`);
  const env: Record<string, string> = {};
  let n = 0;
  const text = scanned.parts
    .map((part) => {
      if (part.kind === 'literal') return part.text;
      n++;
      const name = `${EXPR_VARIABLE_PREFIX}${n}`;
      env[name] = render(`\${{${part.source}}}`, ctx, 'run');
      return `\${${name}}`;
    })
    .join('');
  return { script: text, env };
}

/**
 * Renders a step's fields with `ctx` (see the module comment).
 *
 * @param baseDir the workflow file's directory: a process step's rendered
 *   relative `workdir` is resolved against it.
 * @throws ResolveError naming the field and the expression.
 */
export function resolveStep(step: StepSpec, ctx: EvalContext, baseDir: string): ResolvedStep {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(step.env)) env[k] = render(v, ctx, `env.${k}`);
  let command: string[];
  const script = step.script ? step.command[2] : undefined;
  if (script !== undefined) {
    const s = scriptWithVariables(script, ctx);
    command = [...step.command.slice(0, 2), s.script];
    Object.assign(env, s.env);
  } else {
    command = step.command.map((c, i) => render(c, ctx, `command[${i}]`));
  }
  const out: ResolvedStep = { command, env };
  if (step.image !== undefined) out.image = render(step.image, ctx, 'image');
  if (step.workdir !== undefined) {
    const dir = render(step.workdir, ctx, 'workdir');
    out.workdir = step.kind === 'process' ? path.resolve(baseDir, dir) : dir;
  }
  if (step.timeoutExpr !== undefined) {
    const text = render(step.timeoutExpr, ctx, 'timeout').trim();
    const ms = /^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$/.test(text) ? parseDuration(text) : undefined;
    if (ms === undefined || ms <= 0)
      throw new ResolveError(
        `timeout: ${JSON.stringify(text)} is not a duration like 500ms, 30s, 5m or 1h30m`,
      );
    out.timeoutMs = ms;
  } else if (step.timeoutMs !== undefined) {
    out.timeoutMs = step.timeoutMs;
  }
  return out;
}

/**
 * Decides a step's `if:` (GitHub Actions' rules, `expr/evaluate.ts`).
 * @throws ResolveError when the condition cannot be evaluated.
 */
export function decideCondition(condition: string, ctx: ConditionContext): boolean {
  try {
    return evaluateCondition(condition, ctx);
  } catch (error) {
    const message =
      error instanceof ExpressionEvalError || error instanceof Error
        ? error.message
        : String(error);
    throw new ResolveError(`if: ${message}`);
  }
}
