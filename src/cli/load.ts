/**
 * Loading a workflow for a command: the file's diagnostics printed, the
 * workflow picked (`--workflow`), or a file of Agent documents turned into a
 * serve-mode workflow.
 */

import { basename } from 'node:path';
import { parseBaseImages } from '../agentdev/runtime.js';
import type { Diagnostic } from '../config/diagnostics.js';
import { formatDiagnostic, hasErrors } from '../config/diagnostics.js';
import { type LoadResult, loadProject } from '../config/index.js';
import type { Project, WorkflowSpec } from '../config/model.js';
import { CliError, type CliIo, ExitCode } from './common.js';

/** Prints diagnostics to stderr, with their source snippets. */
export function printDiagnostics(diagnostics: Diagnostic[], result: LoadResult, io: CliIo): void {
  for (const d of diagnostics) {
    io.stderr.write(`${formatDiagnostic(d, result.sources.get(d.file))}\n`);
  }
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
    failFast: true,
    inputs: {},
    secrets: [
      ...new Set(
        project.agents.flatMap((a) =>
          a.environment.flatMap((e) => ('secretName' in e ? [e.secretName] : [])),
        ),
      ),
    ].sort(),
    env: {},
    services,
    steps: {},
  };
}

/**
 * Base images for agent.dev/v1 agents, by language: `AGENTFILE_BASE_IMAGES`
 * (`LANG=IMAGE` entries separated by commas or spaces), then the
 * `--base-image LANG=IMAGE` flags, which win (docs/agent-as-code.md).
 * @throws CliError (exit 2) naming a malformed entry.
 */
export function baseImagesOption(
  flags: readonly string[] | undefined,
  io: CliIo,
): Record<string, string> {
  const fromEnv = (io.env.AGENTFILE_BASE_IMAGES ?? '').split(/[\s,]+/).filter((s) => s !== '');
  try {
    return { ...parseBaseImages(fromEnv), ...parseBaseImages(flags ?? []) };
  } catch (error) {
    throw new CliError((error as Error).message, ExitCode.invalid);
  }
}

/**
 * Loads a file and picks its workflow (`--workflow NAME`, or `FILE#NAME`),
 * or throws CliError (exit 2) after printing diagnostics.
 */
export async function loadWorkflow(
  fileArg: string,
  workflowOption: string | undefined,
  io: CliIo,
  baseImageFlags?: readonly string[],
): Promise<{ workflow: WorkflowSpec; serve: boolean }> {
  // `FILE#NAME` picks a workflow of a file of several, as `uses: FILE#NAME` picks an agent.
  const pick = /^(.+)#([A-Za-z0-9][-A-Za-z0-9_.]*)$/.exec(fileArg);
  const file = pick?.[1] ?? fileArg;
  if (pick && workflowOption !== undefined && workflowOption !== pick[2]) {
    throw new CliError(
      `${fileArg} names workflow "${pick[2]}", but --workflow names "${workflowOption}"`,
      ExitCode.invalid,
    );
  }
  const workflowName = pick?.[2] ?? workflowOption;
  const baseImages = baseImagesOption(baseImageFlags, io);
  const result = await loadProject(file, { cwd: io.cwd, baseImages });
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
