/**
 * `agent run FILE -p HOST:CONTAINER -e KEY=VALUE -v SRC:DST --name NAME`
 * on a file with one Agent: `docker run`'s overrides, applied to the
 * resolved agent before it runs. Pure apart from resolving `-v` sources
 * against the current directory (as `docker run -v ./x:/y` does).
 */

import { isAbsolute, resolve } from 'node:path';
import type { WorkflowSpec } from '../config/model.js';
import { parsePortString } from '../config/units.js';
import { CliError, ExitCode } from './common.js';

/** The override flags, as commander parses them. */
export interface OverrideFlags {
  /** `-p HOST:CONTAINER[/udp]`, repeatable: replaces the mapping of that container port, or adds one. */
  publish?: string[];
  /** `-e KEY=VALUE`, repeatable: sets a variable (over the file's). */
  env?: string[];
  /** `-v SRC:DST[:ro]`, repeatable: adds a bind mount; SRC relative to the current directory. */
  volume?: string[];
  /** `--name NAME`: the agent's name in this run (its service name, and so its container's). */
  name?: string;
}

function hasOverrides(f: OverrideFlags): boolean {
  return (
    (f.publish?.length ?? 0) > 0 ||
    (f.env?.length ?? 0) > 0 ||
    (f.volume?.length ?? 0) > 0 ||
    f.name !== undefined
  );
}

/**
 * The serve-mode workflow with the overrides applied to its only agent.
 * @throws CliError (exit 2) for a malformed flag, or overrides on a file
 *   with several agents.
 */
export function applyOverrides(
  workflow: WorkflowSpec,
  flags: OverrideFlags,
  cwd: string,
): WorkflowSpec {
  if (!hasOverrides(flags)) return workflow;
  const services = Object.values(workflow.services);
  const [only] = services;
  if (!only || services.length !== 1) {
    throw new CliError(
      `-p, -e, -v and --name apply to a file with one agent; this one has ${services.length}`,
      ExitCode.invalid,
    );
  }
  const agent = { ...only.agent, ports: [...only.agent.ports] };
  for (const p of flags.publish ?? []) {
    const parsed = parsePortString(p);
    if (!parsed || !p.includes(':')) {
      throw new CliError(`-p ${p}: expected HOST:CONTAINER, e.g. -p 8080:80`, ExitCode.invalid);
    }
    agent.ports = agent.ports.filter(
      (x) => !(x.container === parsed.container && x.protocol === parsed.protocol),
    );
    agent.ports.push(parsed);
  }
  const environment = [...agent.environment];
  for (const e of flags.env ?? []) {
    const eq = e.indexOf('=');
    const key = e.slice(0, eq);
    if (eq <= 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      throw new CliError(`-e ${e}: expected KEY=VALUE`, ExitCode.invalid);
    }
    const at = environment.findIndex((x) => x.name === key);
    const entry = { name: key, value: e.slice(eq + 1) };
    if (at >= 0) environment[at] = entry;
    else environment.push(entry);
  }
  agent.environment = environment;
  const volumes = [...agent.volumes];
  for (const v of flags.volume ?? []) {
    const [source, target, mode, ...extra] = v.split(':');
    if (
      !source ||
      !target ||
      !isAbsolute(target) ||
      extra.length > 0 ||
      (mode && mode !== 'ro' && mode !== 'rw')
    ) {
      throw new CliError(`-v ${v}: expected SRC:DST or SRC:DST:ro, DST absolute`, ExitCode.invalid);
    }
    volumes.push({ type: 'bind', source: resolve(cwd, source), target, readOnly: mode === 'ro' });
  }
  agent.volumes = volumes;
  const name = flags.name ?? only.name;
  if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(name)) {
    throw new CliError(
      `--name ${name}: letters, digits, _ and -, starting with a letter or _`,
      ExitCode.invalid,
    );
  }
  agent.name = name;
  return {
    ...workflow,
    ...(flags.name !== undefined ? { name } : {}),
    services: { [name]: { ...only, name, agent } },
  };
}
