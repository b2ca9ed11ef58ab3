/**
 * What `agent run` and `agent plan` take besides the file: inputs (`-i
 * NAME=VALUE`, `--inputs FILE`) and secrets (`--secret NAME=VALUE`,
 * `--secret-file FILE`, `AGENT_SECRET_NAME`), each checked before anything
 * runs. Every problem is printed on its own line; then one CliError (exit 2)
 * says nothing was run.
 */

import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { WorkflowSpec } from '../config/model.js';
import { type InputValue, parseInputPairs, resolveInputs } from '../plan/inputs.js';
import { type AxisEvaluator, axisEvaluator } from '../plan/matrix.js';
import type { RunSecrets } from '../run/runner.js';
import { collectSecrets, SecretsError } from '../secrets/index.js';
import { CliError, type CliIo, ExitCode } from './common.js';

/** The input flags of `agent run` / `agent plan`. */
export interface InputFlags {
  /** `-i NAME=VALUE`, repeatable. */
  input?: string[];
  /** `--inputs FILE`: a YAML or JSON mapping of names to values. */
  inputs?: string;
}

/** The secret flags of `agent run`. */
export interface SecretFlags {
  /** `--secret NAME=VALUE`, repeatable. */
  secret?: string[];
  /** `--secret-file FILE` (dotenv), repeatable. */
  secretFile?: string[];
}

function problems(list: readonly string[], what: string, io: CliIo): never {
  for (const p of list) io.stderr.write(`agent: ${p}\n`);
  throw new CliError(
    `${list.length === 1 ? 'a problem' : `${list.length} problems`} with the ${what}; nothing was run`,
    ExitCode.invalid,
  );
}

/**
 * The values given for a run: `--inputs FILE` first, then `-i` pairs over
 * it. A file must hold one mapping of names to scalars.
 * @throws CliError (exit 2) for a file that cannot be read or parsed, or a malformed pair.
 */
export async function givenInputs(flags: InputFlags, io: CliIo): Promise<Record<string, unknown>> {
  const given: Record<string, unknown> = {};
  if (flags.inputs !== undefined) {
    let text: string;
    try {
      text = await readFile(resolve(io.cwd, flags.inputs), 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new CliError(
        `--inputs ${flags.inputs}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`,
        ExitCode.invalid,
      );
    }
    let data: unknown;
    try {
      data = parseYaml(text);
    } catch (error) {
      throw new CliError(
        `--inputs ${flags.inputs}: not YAML or JSON: ${(error as Error).message.split('\n')[0]}`,
        ExitCode.invalid,
      );
    }
    if (data !== null && (typeof data !== 'object' || Array.isArray(data))) {
      throw new CliError(
        `--inputs ${flags.inputs}: expected a mapping of input names to values`,
        ExitCode.invalid,
        'for example: target: prod',
      );
    }
    Object.assign(given, data ?? {});
  }
  const pairs = parseInputPairs(flags.input ?? []);
  if (!pairs.ok) problems(pairs.problems, 'inputs', io);
  return Object.assign(given, pairs.values);
}

/**
 * The checked inputs of a new run.
 * @throws CliError (exit 2) after printing every problem.
 */
export async function runInputs(
  workflow: WorkflowSpec,
  flags: InputFlags,
  io: CliIo,
): Promise<Record<string, InputValue>> {
  const result = resolveInputs(workflow.inputs, await givenInputs(flags, io));
  if (!result.ok) problems(result.problems, 'inputs', io);
  return result.values;
}

/** The matrix axis evaluator for a run with these inputs (`${{ fromJSON(inputs.x) }}` axes). */
export function axesFor(inputs: Record<string, InputValue>): AxisEvaluator {
  return axisEvaluator({ inputs });
}

/**
 * The run's secrets: every secret the workflow declares (and its services
 * read) must have a value. Values are masked from here on.
 * @throws CliError (exit 2) naming every missing secret.
 */
export async function runSecrets(
  workflow: WorkflowSpec,
  flags: SecretFlags,
  io: CliIo,
): Promise<RunSecrets> {
  try {
    const set = await collectSecrets({
      declared: workflow.secrets,
      pairs: flags.secret ?? [],
      files: flags.secretFile ?? [],
      env: io.env,
      cwd: io.cwd,
    });
    const values: Record<string, string> = {};
    for (const name of set.names()) {
      const v = set.get(name);
      if (v !== undefined) values[name] = v;
    }
    const masker = set.masker();
    return { values, redactor: masker, redactValue: (v) => masker.redactValue(v) };
  } catch (error) {
    if (error instanceof SecretsError) {
      throw new CliError(error.message, ExitCode.invalid, error.hint);
    }
    throw error;
  }
}
