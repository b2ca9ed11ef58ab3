/**
 * The `agent` command: argument parsing, choosing a reporter, and mapping
 * results to exit codes. The only module that reads argv, writes to the
 * terminal or decides exit codes; everything else is the library.
 *
 * Exit codes (DESIGN.md): 0 success; 1 a step failed / lint found problems;
 * 2 invalid invocation or config, nothing was run; 3 the workflow is locked by
 * another runner; 4 infrastructure unavailable (Docker engine, state store);
 * 130 interrupted.
 */

import { existsSync, readFileSync } from 'node:fs';
import { basename, relative, resolve } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import {
  type Diagnostic,
  formatDiagnostic,
  formatDiagnosticGithub,
  hasErrors,
  sortDiagnostics,
} from '../config/diagnostics.js';
import { type LoadResult, loadProject, schemaFile } from '../config/index.js';
import type { Project, WorkflowSpec } from '../config/model.js';
import { EngineUnavailableError } from '../executors/types.js';
import { compilePlan } from '../plan/compile.js';
import { planToJson, renderPlanText } from '../plan/render.js';
import type { Reporter } from '../report/types.js';
import { formatMs } from '../run/format.js';
import { resolveStatePath } from '../store/paths.js';
import type { Store } from '../store/store.js';
import { LockedError, StoreError } from '../store/types.js';

/** Exit codes, as documented in docs/cli.md. */
export const ExitCode = {
  ok: 0,
  failed: 1,
  invalid: 2,
  locked: 3,
  unavailable: 4,
  interrupted: 130,
} as const;

/** Where the CLI writes; tests pass buffers. */
export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
}

const defaultIo = (): CliIo => ({
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
});

/** A user-facing failure: one line, a hint, an exit code. Never a stack trace. */
class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/**
 * Runs the `agent` command with `argv` (without `node` and the script) and
 * resolves with the exit code. Never calls `process.exit`; installs SIGINT /
 * SIGTERM handlers only for the duration of `agent run`.
 */
export async function main(argv: string[], io: CliIo = defaultIo()): Promise<number> {
  let exitCode: number = ExitCode.ok;
  const program = new Command('agent')
    .description('A declarative runner for agents and workflows.')
    .version(readVersion(), '-V, --version')
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    });

  program
    .command('lint')
    .description('validate files against the JSON Schemas and the semantic rules')
    .argument('[files...]', 'files to check', ['agent.yaml'])
    .addOption(
      new Option('--format <format>', 'output format; github prints Actions annotations')
        .choices(['pretty', 'json', 'github'])
        .default('pretty'),
    )
    .action(async (files: string[], opts: { format: 'pretty' | 'json' | 'github' }) => {
      exitCode = await lintCommand(files, opts, io);
    });

  program
    .command('plan')
    .description('compile a workflow to its DAG plan and print it')
    .argument('[file]', 'workflow file', 'agent.yaml')
    .option('-w, --workflow <name>', 'the workflow to plan, when the file has several')
    .addOption(
      new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'),
    )
    .action(async (file: string, opts: { workflow?: string; format: 'text' | 'json' }) => {
      exitCode = await planCommand(file, opts, io);
    });

  program
    .command('run')
    .description('run a workflow; every state change is checkpointed to the state store')
    .argument('[file]', 'workflow file', 'agent.yaml')
    .option('-w, --workflow <name>', 'the workflow to run, when the file has several')
    .option(
      '--resume [run]',
      'continue the latest failed, cancelled or interrupted run (or the given run id)',
    )
    .option(
      '--state <path>',
      'state database (default: .agentfile/state.db beside the file; env AGENTFILE_STATE)',
    )
    .addOption(
      new Option(
        '--output <mode>',
        'progress output: tty (live tree), plain (a line per event), json (NDJSON)',
      )
        .choices(['auto', 'tty', 'plain', 'json'])
        .default('auto'),
    )
    .option(
      '--junit <file>',
      'also write a JUnit XML report of the run to FILE (for CI test reports)',
    )
    .action(async (file: string, opts: RunOptions) => {
      exitCode = await runCommand(file, opts, io);
    });

  program
    .command('runs')
    .description('list runs recorded in the state store, newest first')
    .argument('[file]', 'workflow file whose store to read', 'agent.yaml')
    .option('--state <path>', 'state database (default: .agentfile/state.db beside the file)')
    .option('-n, --limit <n>', 'how many runs', '20')
    .addOption(
      new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'),
    )
    .action(async (file: string, opts: { state?: string; limit: string; format: string }) => {
      exitCode = await runsCommand(file, opts, io);
    });

  program
    .command('schema')
    .description('print the JSON Schema of a document kind (for editors and CI)')
    .argument('[kind]', 'Agent or Workflow', 'Workflow')
    .action((kind: string) => {
      const normalized =
        kind.toLowerCase() === 'agent'
          ? 'Agent'
          : kind.toLowerCase() === 'workflow'
            ? 'Workflow'
            : undefined;
      if (!normalized) {
        throw new CliError(`unknown kind "${kind}"; expected Agent or Workflow`, ExitCode.invalid);
      }
      io.stdout.write(readFileSync(schemaFile(normalized), 'utf8'));
      exitCode = ExitCode.ok;
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version exit 0; usage errors were already printed by commander.
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.invalid;
    }
    if (error instanceof CliError) {
      io.stderr.write(`agent: ${error.message}\n${error.hint ? `hint: ${error.hint}\n` : ''}`);
      return error.exitCode;
    }
    throw error;
  }
}

function readVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

function printDiagnostics(diagnostics: Diagnostic[], result: LoadResult, io: CliIo): void {
  for (const d of diagnostics) {
    io.stderr.write(`${formatDiagnostic(d, result.sources.get(d.file))}\n`);
  }
}

async function lintCommand(
  files: string[],
  opts: { format: 'pretty' | 'json' | 'github' },
  io: CliIo,
): Promise<number> {
  // One list across all files: a file named twice, or reached both directly
  // and through another file's `uses:`, reports each problem once.
  const collected: Diagnostic[] = [];
  const sources = new Map<string, string>();
  const seen = new Set<string>();
  for (const file of files) {
    const key = resolve(io.cwd, file);
    if (seen.has(key)) continue;
    seen.add(key);
    const result = await loadProject(file, { cwd: io.cwd });
    collected.push(...result.diagnostics);
    for (const [name, text] of result.sources) sources.set(name, text);
  }
  const all = sortDiagnostics(collected);
  const failed = hasErrors(all);
  if (opts.format === 'json') {
    io.stdout.write(`${JSON.stringify(all, null, 2)}\n`);
  } else if (opts.format === 'github') {
    for (const d of all) io.stdout.write(`${formatDiagnosticGithub(d)}\n`);
  } else {
    for (const d of all) io.stdout.write(`${formatDiagnostic(d, sources.get(d.file))}\n`);
    if (all.length === 0) {
      io.stdout.write(`${files.join(', ')}: no problems found\n`);
    } else {
      const errors = all.filter((d) => d.severity === 'error').length;
      io.stdout.write(`${errors} error(s), ${all.length - errors} warning(s)\n`);
    }
  }
  return failed ? ExitCode.failed : ExitCode.ok;
}

/**
 * A workflow of nothing but services, for a file that holds Agent documents
 * and no Workflow: `agent run agent.yaml` then runs the agents the way
 * `docker compose up` runs services (see docs/cli.md).
 */
function serveWorkflow(project: Project): WorkflowSpec {
  const [first] = project.agents;
  if (!first) throw new Error('internal: serveWorkflow needs at least one agent');
  const services: WorkflowSpec['services'] = {};
  for (const agent of project.agents) {
    services[agent.name] = { name: agent.name, source: agent.source, agent };
  }
  return {
    kind: 'Workflow',
    name: project.agents.length === 1 ? first.name : basename(project.path).replace(/\.ya?ml$/, ''),
    path: project.path,
    source: first.source,
    concurrency: 1,
    env: {},
    services,
    steps: {},
  };
}

/** Loads a file and picks its workflow, or throws CliError (exit 2) after printing diagnostics. */
async function loadWorkflow(
  file: string,
  workflowName: string | undefined,
  io: CliIo,
): Promise<{ workflow: WorkflowSpec; serve: boolean }> {
  const result = await loadProject(file, { cwd: io.cwd });
  if (!result.project || hasErrors(result.diagnostics)) {
    printDiagnostics(result.diagnostics, result, io);
    throw new CliError(
      `${file} is not valid; nothing was run`,
      ExitCode.invalid,
      `run \`agent lint ${file}\` for details`,
    );
  }
  printDiagnostics(result.diagnostics, result, io); // warnings
  const { workflows, agents } = result.project;
  if (workflows.length === 0 && agents.length > 0 && workflowName === undefined) {
    return { workflow: serveWorkflow(result.project), serve: true };
  }
  if (workflows.length === 0) {
    throw new CliError(
      `${file} has no Workflow document`,
      ExitCode.invalid,
      'agents run as services of a workflow: add a `kind: Workflow` document whose services `uses:` the agent',
    );
  }
  if (workflowName !== undefined) {
    const found = workflows.find((w) => w.name === workflowName);
    if (!found) {
      throw new CliError(
        `no workflow "${workflowName}" in ${file}; it has ${workflows.map((w) => `"${w.name}"`).join(', ')}`,
        ExitCode.invalid,
      );
    }
    return { workflow: found, serve: false };
  }
  const [only, ...rest] = workflows;
  if (!only || rest.length > 0) {
    throw new CliError(
      `${file} has ${workflows.length} workflows; choose one with --workflow`,
      ExitCode.invalid,
      `one of: ${workflows.map((w) => w.name).join(', ')}`,
    );
  }
  return { workflow: only, serve: false };
}

async function planCommand(
  file: string,
  opts: { workflow?: string; format: 'text' | 'json' },
  io: CliIo,
): Promise<number> {
  const { workflow } = await loadWorkflow(file, opts.workflow, io);
  const plan = compilePlan(workflow);
  const text =
    opts.format === 'json'
      ? JSON.stringify(planToJson(plan), null, 2)
      : renderPlanText(plan, { cwd: io.cwd });
  io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  return ExitCode.ok;
}

// `lint` and `plan` load only the config and plan modules; what `run` and
// `runs` need (SQLite, execa, dockerode, listr2) is imported when they run,
// which keeps `agent lint` start-up close to Node's own (see bench/).
async function openStore(statePath: string): Promise<Store> {
  const { Store } = await import('../store/store.js');
  try {
    return Store.open({ path: statePath });
  } catch (error) {
    if (error instanceof StoreError) {
      throw new CliError(error.message, ExitCode.unavailable, error.hint);
    }
    throw error;
  }
}

async function pickReporter(mode: string, io: CliIo): Promise<Reporter> {
  const { JsonReporter, PlainReporter } = await import('../report/plain.js');
  const ci = Boolean(io.env.CI) && io.env.CI !== 'false';
  // The live tree goes to stdout (where listr2 renders), so `agent run > log`
  // gets plain lines even from a terminal.
  const effective = mode === 'auto' ? (io.stdout.isTTY && !ci ? 'tty' : 'plain') : mode;
  switch (effective) {
    case 'json':
      return new JsonReporter(io.stdout);
    case 'tty': {
      const { ListrReporter } = await import('../report/listr.js');
      return new ListrReporter({ out: io.stdout });
    }
    default:
      return new PlainReporter({ out: io.stdout, cwd: io.cwd });
  }
}

/** Options of `agent run`, as commander parses them. */
interface RunOptions {
  workflow?: string;
  resume?: true | string;
  state?: string;
  output: string;
  junit?: string;
}

async function runCommand(file: string, opts: RunOptions, io: CliIo): Promise<number> {
  const { workflow, serve } = await loadWorkflow(file, opts.workflow, io);
  const plan = compilePlan(workflow);
  const statePath = resolveStatePath({
    workflowFile: workflow.path,
    flag: opts.state,
    env: io.env,
    cwd: io.cwd,
  });
  const store = await openStore(statePath);
  const reporters = [await pickReporter(opts.output, io)];
  if (opts.junit) {
    const { JunitReporter } = await import('../report/junit.js');
    reporters.push(new JunitReporter(resolve(io.cwd, opts.junit)));
  }
  const reporter: Reporter = {
    onEvent: (event) => {
      for (const r of reporters) r.onEvent(event);
    },
    close: async () => {
      for (const r of reporters) {
        try {
          await r.close();
        } catch (error) {
          // A report that cannot be written fails the command, after the run
          // itself was recorded (exit 4, like any file the runner needs).
          if (error instanceof Error && error.name === 'ReportWriteError') {
            throw new CliError(error.message, ExitCode.unavailable, 'check the --junit path');
          }
          throw error;
        }
      }
    },
  };
  const { ResumeError, runWorkflow } = await import('../run/runner.js');
  const { defaultExecutors } = await import('../run/executors.js');
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      io.stderr.write(`\nagent: ${signal} received, cancelling the run (send it again to force)\n`);
      controller.abort();
    } else {
      io.stderr.write(
        `agent: ${signal} received again, exiting now; leftovers are removed by the next --resume\n`,
      );
      process.exit(ExitCode.interrupted);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let result: Awaited<ReturnType<typeof runWorkflow>>;
  try {
    result = await runWorkflow({
      plan,
      store,
      statePath,
      executors: defaultExecutors({ env: io.env }),
      resume: opts.resume,
      serve,
      signal: controller.signal,
      onEvent: (e) => reporter.onEvent(e),
      env: io.env,
    });
  } catch (error) {
    // The run did not happen or broke off: the error says why, not the report.
    await reporter.close().catch(() => undefined);
    if (error instanceof LockedError) {
      const h = error.holder;
      throw new CliError(
        `workflow "${workflow.name}" (${file}) is already being run by run ${h.runId} (pid ${h.pid} on ${h.host})`,
        ExitCode.locked,
        'wait for that run to finish, or stop it; a run whose runner died is taken over automatically',
      );
    }
    if (error instanceof EngineUnavailableError)
      throw new CliError(error.message, ExitCode.unavailable, error.hint);
    if (error instanceof StoreError)
      throw new CliError(error.message, ExitCode.unavailable, error.hint);
    if (error instanceof ResumeError)
      throw new CliError(error.message, ExitCode.invalid, error.hint);
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    store.close();
  }
  await reporter.close();
  switch (result.status) {
    case 'succeeded':
      return ExitCode.ok;
    case 'cancelled':
      return ExitCode.interrupted;
    case 'failed':
    case 'pending':
    case 'running':
      return ExitCode.failed;
  }
}

async function runsCommand(
  file: string,
  opts: { state?: string; limit: string; format: string },
  io: CliIo,
): Promise<number> {
  const limit = Number.parseInt(opts.limit, 10);
  if (!Number.isInteger(limit) || limit < 1) {
    throw new CliError(`--limit must be a positive integer, got "${opts.limit}"`, ExitCode.invalid);
  }
  const workflowFile = resolve(io.cwd, file);
  const statePath = resolveStatePath({ workflowFile, flag: opts.state, env: io.env, cwd: io.cwd });
  if (!existsSync(statePath)) {
    // Reading must not create a store.
    if (opts.format === 'json') io.stdout.write('[]\n');
    else
      io.stdout.write(`no runs: no state store at ${relative(io.cwd, statePath) || statePath}\n`);
    return ExitCode.ok;
  }
  const store = await openStore(statePath);
  try {
    const runs = store.listRuns({ limit });
    if (opts.format === 'json') {
      io.stdout.write(`${JSON.stringify(runs, null, 2)}\n`);
      return ExitCode.ok;
    }
    if (runs.length === 0) {
      io.stdout.write(`no runs in ${relative(io.cwd, statePath) || statePath}\n`);
      return ExitCode.ok;
    }
    const rows = runs.map((r) => [
      r.id,
      r.workflow,
      r.status,
      new Date(r.createdAt).toISOString().replace('T', ' ').slice(0, 19),
      r.startedAt !== null && r.finishedAt !== null ? formatMs(r.finishedAt - r.startedAt) : '-',
      r.error ?? '',
    ]);
    const header = ['RUN', 'WORKFLOW', 'STATUS', 'CREATED (UTC)', 'DURATION', 'ERROR'];
    const widths = header.map((h, i) =>
      Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)),
    );
    for (const row of [header, ...rows]) {
      io.stdout.write(
        `${row
          .map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
          .join('  ')
          .trimEnd()}\n`,
      );
    }
    return ExitCode.ok;
  } finally {
    store.close();
  }
}
