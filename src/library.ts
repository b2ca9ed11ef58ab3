/**
 * The library's high-level calls, what the `agent` CLI does without a
 * terminal: lint files, compile a workflow's plan, start a run and follow
 * it (an async iterator of its stored events, `cancel()`, `pause()`, the
 * final record), and query recorded runs. Nothing here prints or exits.
 * See docs/library.md.
 */

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Diagnostic, hasErrors, sortDiagnostics } from './config/diagnostics.js';
import { loadProject } from './config/index.js';
import type { StoredEvent } from './core/events.js';
import { lintPolicy } from './lint/lint-policy.js';
import { compilePlan, type Plan } from './plan/compile.js';
import { type InputValue, resolveInputs } from './plan/inputs.js';
import { axisEvaluator, MatrixError } from './plan/matrix.js';
import { type RunResult, runWorkflow } from './run/runner.js';
import { SecretMasker } from './secrets/index.js';
import { resolveStatePath } from './store/paths.js';
import type { RunFilter, RunRecord, StateStore } from './store/types.js';
import { defaultExecutors, openStateStore } from './wiring.js';

/** What {@link lint} found. */
export interface LintResult {
  /** Sorted and deduplicated across files, errors and warnings. */
  diagnostics: Diagnostic[];
  /** True when no diagnostic is an error. */
  ok: boolean;
}

/**
 * Validates files as `agent lint` does (schemas, semantic rules), each
 * problem once even when several files reach the same one.
 *
 * @param options.policy run the policy rules too, as `agent lint` does:
 *   `{}` for its defaults, `{ strict: true }` for `--strict`, `config` for
 *   `--config FILE` (relative to `cwd`); without it only the rules that
 *   `agent run` also applies are checked.
 */
export async function lint(
  files: readonly string[],
  options: { cwd?: string; policy?: { strict?: boolean; config?: string } } = {},
): Promise<LintResult> {
  const cwd = options.cwd ?? process.cwd();
  const seen = new Set<string>();
  const all: Diagnostic[] = [];
  for (const file of files) {
    const key = resolve(cwd, file);
    if (seen.has(key)) continue;
    seen.add(key);
    if (options.policy) {
      const policy = await lintPolicy(file, options.policy, cwd);
      all.push(...policy.diagnostics);
      all.push(...(await loadProject(file, { cwd, policy: policy.options })).diagnostics);
    } else {
      all.push(...(await loadProject(file, { cwd })).diagnostics);
    }
  }
  const diagnostics = sortDiagnostics(all);
  return { diagnostics, ok: !hasErrors(diagnostics) };
}

/** A workflow's file has problems: `diagnostics` says which. */
export class InvalidConfigError extends Error {
  override name = 'InvalidConfigError';
  constructor(
    message: string,
    readonly diagnostics: Diagnostic[],
  ) {
    super(message);
  }
}

/**
 * Loads `file` and compiles the workflow named `workflow` (or its only one).
 * @throws InvalidConfigError when the file has errors, no workflow, or
 *   several and none was named.
 */
export async function plan(
  file: string,
  options: {
    cwd?: string;
    workflow?: string;
    /** Inputs for matrix axes that read them (`${{ fromJSON(inputs.x) }}`); checked like a run's. */
    inputs?: Record<string, unknown>;
  } = {},
): Promise<Plan> {
  const result = await loadProject(file, { cwd: options.cwd ?? process.cwd() });
  if (!result.project || hasErrors(result.diagnostics))
    throw new InvalidConfigError(`${file} is not valid`, result.diagnostics);
  const { workflows } = result.project;
  const chosen =
    options.workflow === undefined
      ? workflows.length === 1
        ? workflows[0]
        : undefined
      : workflows.find((w) => w.name === options.workflow);
  if (!chosen) {
    throw new InvalidConfigError(
      options.workflow === undefined
        ? `${file} has ${workflows.length} workflows; name one`
        : `no workflow "${options.workflow}" in ${file}`,
      result.diagnostics,
    );
  }
  const inputs = checkedInputs(chosen.inputs, options.inputs ?? {}, result.diagnostics);
  try {
    return compilePlan(chosen, { evaluateAxis: axisEvaluator({ inputs }) });
  } catch (error) {
    if (error instanceof MatrixError)
      throw new InvalidConfigError(error.message, result.diagnostics);
    throw error;
  }
}

function checkedInputs(
  specs: Plan['inputs'],
  given: Record<string, unknown>,
  diagnostics: Diagnostic[] = [],
): Record<string, InputValue> {
  const resolved = resolveInputs(specs, given);
  if (!resolved.ok) throw new InvalidConfigError(resolved.problems.join('; '), diagnostics);
  return resolved.values;
}

/** Options of {@link startRun}. */
export interface StartRunOptions {
  /** A compiled plan ({@link plan}). */
  plan: Plan;
  /** The state store file; default `.agentfile/state.db` beside the workflow file (or `AGENTFILE_STATE`). */
  statePath?: string;
  /** `true` for the latest resumable run, or a run id. */
  resume?: true | string;
  /** Rerun this step and everything downstream of it. */
  from?: string;
  /** The environment of the run (`from: env`, process steps). Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /**
   * Inputs of a new run, by name (text or typed values), checked against the
   * plan's declared inputs; a resumed run keeps its recorded ones.
   */
  inputs?: Record<string, unknown>;
  /**
   * Secret values by name; every secret the plan needs must be here.
   * Masked in every event and output line, never stored.
   */
  secrets?: Record<string, string>;
}

/** A run in progress. */
export interface RunHandle {
  /** The run's id, once it is known (before anything runs). */
  readonly runId: Promise<string>;
  /**
   * The run's stored events, from this session's first, in order; the
   * iterator ends after the run's last event. Each call starts from the
   * first event again.
   */
  events(): AsyncIterableIterator<StoredEvent>;
  /** Cancels the run (as SIGINT does); `result` then resolves `cancelled`. */
  cancel(): void;
  /** Pauses the run (as `agent pause` does); `result` then resolves `paused`. */
  pause(): void;
  /**
   * How the session ended, with every step's final record. Rejects as
   * `runWorkflow` does (`LockedError`, `EngineUnavailableError`,
   * `StoreError`, `ResumeError`, `FromError`).
   */
  readonly result: Promise<RunResult>;
}

/**
 * Starts a run of `options.plan` with the real executors (processes, the
 * Docker engine) and the SQLite store, and returns at once. Inputs that do
 * not fit the plan, or a missing secret, reject `result` (and `runId`) with
 * {@link InvalidConfigError} before anything runs.
 */
export function startRun(options: StartRunOptions): RunHandle {
  const statePath =
    options.statePath ??
    resolveStatePath({ workflowFile: options.plan.file, env: options.env ?? process.env });
  const cancel = new AbortController();
  const pause = new AbortController();
  const seen: StoredEvent[] = [];
  const waiters = new Set<() => void>();
  let done = false;
  let setRunId!: (id: string) => void;
  let failRunId!: (error: unknown) => void;
  const runId = new Promise<string>((res, rej) => {
    setRunId = res;
    failRunId = rej;
  });
  runId.catch(() => undefined);
  const notify = () => {
    for (const w of waiters) w();
    waiters.clear();
  };
  const result = (async () => {
    const values = options.secrets ?? {};
    let inputs: Record<string, InputValue>;
    try {
      inputs = checkedInputs(options.plan.inputs, options.inputs ?? {});
      const missing = options.plan.secrets.filter((n) => values[n] === undefined);
      if (missing.length > 0) {
        throw new InvalidConfigError(
          `missing secret${missing.length > 1 ? 's' : ''} ${missing.map((n) => `"${n}"`).join(', ')}`,
          [],
        );
      }
    } catch (error) {
      failRunId(error);
      done = true;
      notify();
      throw error;
    }
    const masker = new SecretMasker(Object.values(values));
    const store = openStateStore(statePath);
    try {
      return await runWorkflow({
        plan: options.plan,
        store,
        statePath,
        executors: defaultExecutors({ env: options.env ?? process.env }),
        ...(options.resume !== undefined ? { resume: options.resume } : {}),
        ...(options.from !== undefined ? { from: options.from } : {}),
        signal: cancel.signal,
        pauseSignal: pause.signal,
        env: options.env ?? process.env,
        inputs,
        secrets: { values, redactor: masker, redactValue: (v) => masker.redactValue(v) },
        onRunId: (id) => setRunId(id),
        onEvent: (e) => {
          seen.push(e);
          notify();
        },
      });
    } catch (error) {
      failRunId(error);
      throw error;
    } finally {
      done = true;
      notify();
      await store.close();
    }
  })();
  result.catch(() => undefined);
  return {
    runId,
    result,
    cancel: () => cancel.abort(),
    pause: () => pause.abort(),
    async *events() {
      for (let i = 0; ; ) {
        while (i < seen.length) {
          const e = seen[i++];
          if (e) yield e;
        }
        if (done) return;
        await new Promise<void>((r) => waiters.add(r));
      }
    },
  };
}

/**
 * Recorded runs, newest first, from the store of `file` (or `statePath`):
 * none when there is no store. Opens and closes the store; reads only.
 */
export async function listRuns(
  options: { file?: string; statePath?: string } & RunFilter = {},
): Promise<RunRecord[]> {
  const { file, statePath, ...filter } = options;
  const path =
    statePath ??
    resolveStatePath({ workflowFile: resolve(file ?? 'agent.yaml'), env: process.env });
  if (!existsSync(path)) return []; // reading never creates a store
  const store: StateStore = openStateStore(path);
  try {
    return await store.listRuns(filter);
  } finally {
    await store.close();
  }
}
