/**
 * `agent inspect [FILE]`: the Agents of a file as agentfile resolved them
 * (runtime, image or build, command, ports, volumes, health check, limits),
 * with environment variables by name and source only: never a value, since
 * values may be secrets or come from the runner's environment.
 */

import { relative } from 'node:path';
import type { AgentSpec } from '../config/model.js';
import { formatCommand, formatDuration } from '../plan/render.js';
import { CliError, type CliIo, ExitCode } from './common.js';
import { loadWorkflow } from './load.js';

/** Options of `agent inspect`. */
export interface AgentInspectOptions {
  json?: boolean;
}

/** An Agent as `agent inspect` shows it: the resolved spec with environment values replaced by their source. */
export type InspectedAgent = Omit<AgentSpec, 'environment' | 'build'> & {
  environment: { name: string; from: 'value' | 'env' | 'secret'; secretName?: string }[];
  build?: { context: string; dockerfile: string; args: string[] };
};

/** The agent without any environment or build-argument value (names and sources only). */
export function inspectAgent(agent: AgentSpec): InspectedAgent {
  const { environment, build, ...rest } = agent;
  const out: InspectedAgent = {
    ...rest,
    environment: environment.map((e) =>
      'value' in e
        ? { name: e.name, from: 'value' as const }
        : e.from === 'secret'
          ? { name: e.name, from: 'secret' as const, secretName: e.secretName }
          : { name: e.name, from: 'env' as const },
    ),
  };
  if (build) {
    out.build = {
      context: build.context,
      dockerfile: build.dockerfile,
      args: Object.keys(build.args).sort(),
    };
  }
  return out;
}

function lines(agent: InspectedAgent, cwd: string): string[] {
  const out = [`agent ${agent.name} (${relative(cwd, agent.path) || agent.path})`];
  out.push(`  runtime      ${agent.runtime}`);
  if (agent.image) out.push(`  image        ${agent.image}`);
  if (agent.build) {
    const args = agent.build.args.length > 0 ? `, args ${agent.build.args.join(', ')}` : '';
    out.push(
      `  build        ${relative(cwd, agent.build.context) || '.'} (${agent.build.dockerfile}${args})`,
    );
  }
  if (agent.command) out.push(`  command      ${formatCommand(agent.command)}`);
  if (agent.workdir) out.push(`  workdir      ${agent.workdir}`);
  for (const p of agent.ports)
    out.push(
      `  port         ${p.host === 0 ? 'any free' : p.host} -> ${p.container}/${p.protocol}`,
    );
  for (const e of agent.environment) {
    const source =
      e.from === 'value'
        ? 'set in the file'
        : e.from === 'env'
          ? "from the runner's environment"
          : `from secret ${e.secretName}`;
    out.push(`  env          ${e.name} (${source})`);
  }
  for (const v of agent.volumes)
    out.push(`  volume       ${v.source} -> ${v.target}${v.readOnly ? ' (read-only)' : ''}`);
  const h = agent.healthCheck;
  if (h) {
    const probe =
      h.probe.kind === 'http'
        ? `http :${h.probe.port}${h.probe.path}`
        : h.probe.kind === 'tcp'
          ? `tcp :${h.probe.port}`
          : h.probe.kind === 'command'
            ? `command ${formatCommand(h.probe.command)}`
            : h.probe.kind === 'file'
              ? `file ${h.probe.path}`
              : `log /${h.probe.pattern}/`;
    out.push(
      `  health       ${probe} every ${formatDuration(h.intervalMs)}, timeout ${formatDuration(h.timeoutMs)}, ${h.retries} retries, start period ${formatDuration(h.startPeriodMs)}`,
    );
  }
  const l = agent.resources.limits;
  if (l.nanoCpus !== undefined) out.push(`  cpu limit    ${l.nanoCpus / 1e9}`);
  if (l.memoryBytes !== undefined) out.push(`  memory limit ${l.memoryBytes} bytes`);
  return out;
}

/**
 * Runs `agent inspect`; resolves with the exit code.
 * @throws CliError (exit 2) for an invalid file or one without Agents.
 */
export async function agentInspectCommand(
  file: string,
  opts: AgentInspectOptions,
  io: CliIo,
): Promise<number> {
  const { workflow } = await loadWorkflow(file, undefined, io).catch((error: unknown) => {
    // A file with workflows: inspect the agents its services use.
    if (error instanceof CliError && /workflows; choose one/.test(error.message)) {
      throw new CliError(
        `${file} has several workflows; inspect shows the agents of a file of Agents or of one workflow`,
        ExitCode.invalid,
        'give FILE#NAME to pick a workflow',
      );
    }
    throw error;
  });
  const agents = Object.values(workflow.services).map((s) => inspectAgent(s.agent));
  if (agents.length === 0) {
    throw new CliError(`${file} defines no agents`, ExitCode.invalid);
  }
  if (opts.json) {
    io.stdout.write(`${JSON.stringify(agents, null, 2)}\n`);
  } else {
    for (const [i, a] of agents.entries()) {
      if (i > 0) io.stdout.write('\n');
      for (const line of lines(a, io.cwd)) io.stdout.write(`${line}\n`);
    }
  }
  return ExitCode.ok;
}
