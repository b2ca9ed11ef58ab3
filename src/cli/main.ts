/**
 * The `agent` command: argument parsing and mapping results to exit codes
 * (`common.ts` lists them). `src/cli/` is the only place that reads argv,
 * writes to the terminal or decides exit codes; everything else is the
 * library. Each group of commands has its own module: `run-command.ts`,
 * `inspect.ts` (runs, status, logs, events), `control.ts` (cancel, pause,
 * approve, reject), `maintenance.ts` (prune, doctor, backup).
 */

import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { LINT_FORMATS, parseMaxWarnings } from '../lint/format/index.js';
import { compilePlan, type Plan } from '../plan/compile.js';
import { MatrixError } from '../plan/matrix.js';
import { planToJson, renderPlanDot, renderPlanMermaid, renderPlanText } from '../plan/render.js';
import { CliError, type CliIo, ExitCode, packageVersion } from './common.js';
import type { InitOptions } from './init-command.js';
import { type LintOptions, lintCommand } from './lint-command.js';
import { loadWorkflow } from './load.js';
import type { RunOptions } from './run-command.js';
import type { InputFlags } from './run-inputs.js';
import { registerSchemaCommand } from './schema-command.js';

export { type CliIo, ExitCode } from './common.js';

const defaultIo = (): CliIo => ({
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
});

/**
 * Runs the `agent` command with `argv` (without `node` and the script) and
 * resolves with the exit code. Never calls `process.exit`; installs SIGINT /
 * SIGTERM handlers only for the duration of `agent run`.
 */
export async function main(argv: string[], io: CliIo = defaultIo()): Promise<number> {
  toleratesClosedOutput(io.stdout);
  toleratesClosedOutput(io.stderr);
  let exitCode: number = ExitCode.ok;
  const program = new Command('agent')
    .description('A declarative runner for agents and workflows.')
    .version(packageVersion(), '-V, --version')
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
      new Option(
        '--format <format>',
        'output format; github prints Actions annotations, sarif a SARIF 2.1.0 log',
      )
        .choices(LINT_FORMATS)
        .default('pretty'),
    )
    .addOption(
      new Option('--max-warnings <n>', 'exit 1 when there are more than N warnings').argParser(
        (value: string) => {
          try {
            return parseMaxWarnings(value);
          } catch (error) {
            throw new InvalidArgumentError((error as Error).message);
          }
        },
      ),
    )
    .option('--strict', 'policy warnings are errors, and images need a digest')
    .option('--config <file>', 'the .agentlint.yaml to use (default: the nearest one)')
    .action(async (files: string[], opts: LintOptions) => {
      exitCode = await lintCommand(files, opts, io);
    });

  program
    .command('plan')
    .description('compile a workflow to its DAG plan and print it')
    .argument('[file]', 'workflow file', 'agent.yaml')
    .option('-w, --workflow <name>', 'the workflow to plan, when the file has several')
    .addOption(
      new Option('--format <format>', 'output format; mermaid and dot draw the graph')
        .choices(['text', 'json', 'mermaid', 'dot'])
        .default('text'),
    )
    .option('--resume [run]', 'say which steps `agent run --resume` would run, and why')
    .option('--from <step>', 'say which steps `agent run --from STEP` would rerun, and why')
    .option('--state <path>', 'state database (default: .agentfile/state.db beside the file)')
    .option(
      '-i, --input <name=value>',
      'an input, for matrices that read inputs (repeatable)',
      collect,
      [],
    )
    .option('--inputs <file>', 'inputs from a YAML or JSON file (-i wins)')
    .action(async (file: string, opts: PlanOptions) => {
      exitCode = await planCommand(file, opts, io);
    });

  program
    .command('run')
    .description('run a workflow; every state change is checkpointed to the state store')
    .argument('[file]', 'workflow file', 'agent.yaml')
    .option('-w, --workflow <name>', 'the workflow to run, when the file has several')
    .option(
      '--resume [run]',
      'continue the latest failed, cancelled, paused, waiting or interrupted run (or the given run id)',
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
    .option('--report <file>', 'also write the HTML report of the run to FILE at its end')
    .option(
      '--from <step>',
      'rerun STEP and every step downstream of it in the latest run (or --resume RUN)',
    )
    .option('-i, --input <name=value>', 'an input of the run (repeatable)', collect, [])
    .option('--inputs <file>', 'inputs of the run from a YAML or JSON file (-i wins)')
    .option(
      '--secret <name=value>',
      'a secret of the run (repeatable); masked, never stored',
      collect,
      [],
    )
    .option('--secret-file <file>', 'secrets from a dotenv file (repeatable)', collect, [])
    .option(
      '-p, --publish <host:container>',
      'agents only: publish a port (repeatable)',
      collect,
      [],
    )
    .option(
      '-e, --env <key=value>',
      'agents only: set an environment variable (repeatable)',
      collect,
      [],
    )
    .option(
      '-v, --volume <src:dst>',
      'agents only: bind-mount SRC at DST[:ro] (repeatable)',
      collect,
      [],
    )
    .option('--name <name>', "agents only: the agent's name in this run")
    .option(
      '-d, --detach',
      'agents only: start them in the background, wait until healthy, print their container ids',
    )
    .option(
      '--base-image <lang=image>',
      'base image of agent.dev/v1 agents of a language, e.g. nodejs=node:20 (repeatable; env AGENTFILE_BASE_IMAGES)',
      collect,
      [],
    )
    .action(async (file: string, opts: RunOptions) => {
      const { runCommand } = await import('./run-command.js');
      exitCode = await runCommand(file, opts, io, argv);
    });

  // Each group of commands registers its own (lazily loading what it runs).
  // The commands defined in this file need none of them, so `agent lint`
  // and `agent plan` start without loading the groups (and the store and
  // run modules they import); any other command, help or a typo loads all.
  const setExit = (code: number) => {
    exitCode = code;
  };
  if (!SELF_CONTAINED.has(argv[0] ?? '')) {
    const [inspect, control, maintenance, build, report] = await Promise.all([
      import('./inspect.js'),
      import('./control.js'),
      import('./maintenance.js'),
      import('./build-command.js'),
      import('./report-command.js'),
    ]);
    inspect.registerInspectCommands(program, io, setExit);
    control.registerControlCommands(program, io, setExit);
    maintenance.registerMaintenanceCommands(program, io, setExit);
    build.registerBuildCommand(program, io, setExit);
    report.registerReportCommand(program, io, setExit);
  }

  program
    .command('init')
    .description('write a runnable agent: agent.yaml and a minimal HTTP server with /health')
    .argument('[template]', 'node (default) or python')
    .option('--dir <dir>', 'directory to write into (default: the current directory)')
    .option('--name <name>', 'the agent name (default: my-agent)')
    .option('--force', 'overwrite existing files')
    .action(async (template: string | undefined, opts: InitOptions) => {
      const { initCommand } = await import('./init-command.js');
      exitCode = await initCommand(template, opts, io);
    });

  program
    .command('ps')
    .description('list the containers agentfile started that run now, with their recorded health')
    .argument('[file]', 'file whose state store gives the health column', 'agent.yaml')
    .option('--state <path>', 'state database (default: .agentfile/state.db beside the file)')
    .option('--json', 'print JSON')
    .action(async (file: string, opts: { state?: string; json?: boolean }) => {
      const { psCommand } = await import('./ps-command.js');
      exitCode = await psCommand(file, opts, io);
    });

  program
    .command('inspect')
    .description(
      "show a file's agents as resolved: image, ports, health check; environment names, never values",
    )
    .argument('[file]', 'agent or workflow file (FILE#NAME picks a workflow)', 'agent.yaml')
    .option('--json', 'print JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      const { agentInspectCommand } = await import('./agent-inspect-command.js');
      exitCode = await agentInspectCommand(file, opts, io);
    });

  registerSchemaCommand(program, io, setExit);

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

/** Commands defined in main() itself, which run without the command groups registered. */
const SELF_CONTAINED = new Set(['lint', 'plan', 'schema']);

/** Commander's collector for repeatable options. */
function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

const guarded = new WeakSet<object>();

/**
 * A reader that went away (`agent run | head`, a closed terminal) is not a
 * failure of the command: its EPIPE (and writes after it) are ignored, and
 * the command goes on to its end, a run to its recorded outcome.
 */
function toleratesClosedOutput(stream: NodeJS.WritableStream): void {
  if (guarded.has(stream) || typeof stream.on !== 'function') return;
  guarded.add(stream);
  stream.on('error', () => {
    // EPIPE, ERR_STREAM_DESTROYED: nobody reads any more; nothing to report it to.
  });
}

interface PlanOptions extends InputFlags {
  workflow?: string;
  format: 'text' | 'json' | 'mermaid' | 'dot';
  resume?: true | string;
  from?: string;
  state?: string;
}

async function planCommand(file: string, opts: PlanOptions, io: CliIo): Promise<number> {
  const { workflow } = await loadWorkflow(file, opts.workflow, io);
  const { axesFor, runInputs } = await import('./run-inputs.js');
  let plan: Plan;
  try {
    plan = compilePlan(workflow, { evaluateAxis: axesFor(await runInputs(workflow, opts, io)) });
  } catch (error) {
    if (error instanceof MatrixError) throw new CliError(error.message, ExitCode.invalid);
    throw error;
  }
  if (opts.resume !== undefined || opts.from !== undefined) {
    const format = opts.format;
    if (format === 'mermaid' || format === 'dot') {
      throw new CliError(
        `--format ${format} draws the plan; with --resume or --from use text or json`,
        ExitCode.invalid,
      );
    }
    const { explainSession } = await import('./explain.js');
    return explainSession(plan, { ...opts, format }, io);
  }
  const text =
    opts.format === 'json'
      ? JSON.stringify(planToJson(plan), null, 2)
      : opts.format === 'mermaid'
        ? renderPlanMermaid(plan)
        : opts.format === 'dot'
          ? renderPlanDot(plan)
          : renderPlanText(plan, { cwd: io.cwd });
  io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  return ExitCode.ok;
}
