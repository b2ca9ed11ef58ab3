/**
 * `agent build [FILE]`: builds the image of every agent of a file that has
 * one to build (agent.dev/v1 agents from their generated Dockerfile,
 * agentfile agents with `build:`), streaming the build output, and tags it
 * with the agent's `image` (`NAME:VERSION` for agent.dev/v1).
 * `--print-dockerfile` prints the generated Dockerfile instead
 * (docs/agent-as-code.md).
 */

import type { Command } from 'commander';
import { hasErrors } from '../config/diagnostics.js';
import { loadProject } from '../config/index.js';
import type { AgentSpec } from '../config/model.js';
import { ImageBuildError } from '../executors/errors.js';
import { EngineUnavailableError } from '../executors/types.js';
import { CliError, type CliIo, ExitCode } from './common.js';
import { baseImagesOption, printDiagnostics } from './load.js';

/** Options of `agent build`, as commander parses them. */
interface BuildOptions {
  printDockerfile?: boolean;
  baseImage: string[];
}

/**
 * The Dockerfile instruction a failed classic-builder build was running:
 * the last `Step N/M : INSTRUCTION` line of its output, and the 1-based line
 * of the Dockerfile that holds that instruction (the builder prints it with
 * runs of spaces collapsed, so lines are compared that way). Undefined when
 * the output has no step line; `line` undefined when no Dockerfile line matches.
 */
export function failingStep(
  output: readonly string[],
  dockerfile: string,
): { step: string; instruction: string; line?: number } | undefined {
  for (let i = output.length - 1; i >= 0; i--) {
    const m = /^Step (\d+\/\d+) : (.*)$/.exec(output[i] ?? '');
    if (!m) continue;
    const instruction = m[2] ?? '';
    const squash = (s: string) => s.trim().replace(/\s+/g, ' ');
    const index = dockerfile.split('\n').findIndex((l) => squash(l) === squash(instruction));
    return { step: m[1] ?? '', instruction, ...(index >= 0 ? { line: index + 1 } : {}) };
  }
  return undefined;
}

/** Registers `agent build` on the program; `setExit` receives its exit code. */
export function registerBuildCommand(
  program: Command,
  io: CliIo,
  setExit: (code: number) => void,
): void {
  program
    .command('build')
    .description('build and tag the images of the agents of a file (agent.dev/v1: NAME:VERSION)')
    .argument('[file]', 'agent file', 'agent.yaml')
    .option('--print-dockerfile', 'print the generated Dockerfile and exit')
    .option(
      '--base-image <lang=image>',
      'base image for a language, e.g. nodejs=node:20 (repeatable; env AGENTFILE_BASE_IMAGES)',
      (value: string, previous: string[]) => [...previous, value],
      [],
    )
    .action(async (file: string, opts: BuildOptions) => {
      setExit(await buildCommand(file, opts, io));
    });
}

async function buildCommand(file: string, opts: BuildOptions, io: CliIo): Promise<number> {
  const baseImages = baseImagesOption(opts.baseImage, io);
  const result = await loadProject(file, { cwd: io.cwd, baseImages });
  printDiagnostics(result.diagnostics, result, io);
  if (!result.project || hasErrors(result.diagnostics)) {
    throw new CliError(`${file} is not valid; nothing was built`, ExitCode.invalid);
  }
  const agents = result.project.agents.filter((a): a is AgentSpec & { build: object } =>
    Boolean(a.build),
  );
  if (agents.length === 0) {
    throw new CliError(
      `${file} has no agent to build`,
      ExitCode.invalid,
      'agent build builds agent.dev/v1 agents and agents with "build:"',
    );
  }
  if (opts.printDockerfile) {
    for (const agent of agents) {
      const text = agent.build?.files?.[agent.build.dockerfile];
      if (text === undefined) {
        throw new CliError(
          `agent "${agent.name}" has its own Dockerfile (${agent.build?.dockerfile} in its build context); nothing is generated`,
          ExitCode.invalid,
        );
      }
      io.stdout.write(agents.length > 1 ? `# agent ${agent.name}\n${text}` : text);
    }
    return ExitCode.ok;
  }
  const { DockerEngine } = await import('../executors/docker.js');
  const engine = new DockerEngine();
  for (const agent of agents) {
    const lines: string[] = [];
    io.stderr.write(`agent ${agent.name}: building ${agent.image ?? 'its image'}\n`);
    try {
      const tag = await engine.ensureImage(agent, {
        onOutput: (_stream, line) => {
          lines.push(line);
          io.stdout.write(`${line}\n`);
        },
      });
      io.stderr.write(
        lines.length === 0
          ? `agent ${agent.name}: ${agent.image ?? tag} is up to date (${tag})\n`
          : `agent ${agent.name}: built ${agent.image ?? tag} (${tag})\n`,
      );
    } catch (error) {
      if (error instanceof EngineUnavailableError) {
        throw new CliError(error.message, ExitCode.unavailable, 'start Docker, or set DOCKER_HOST');
      }
      if (error instanceof ImageBuildError) {
        const dockerfile = agent.build?.files?.[agent.build.dockerfile];
        const step = failingStep(lines, dockerfile ?? '');
        const where = step
          ? `step ${step.step}${step.line !== undefined ? ` (Dockerfile line ${step.line})` : ''}: ${step.instruction}`
          : undefined;
        const ansi = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');
        throw new CliError(
          `${error.message.split('\n')[0]}${where ? `\n  at ${where}` : ''}\n  last output:\n${lines
            .slice(-15)
            .map((l) => `    ${l.replace(ansi, '')}`)
            .join('\n')}`,
          ExitCode.failed,
          dockerfile !== undefined
            ? `\`agent build ${file} --print-dockerfile\` shows the generated Dockerfile`
            : undefined,
        );
      }
      throw error;
    }
  }
  return ExitCode.ok;
}
