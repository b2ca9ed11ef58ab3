/**
 * What a run leaves on the machine, found the way the runner's own sweep
 * finds it: containers and networks by the label `agentfile.run=<run id>`
 * that the runner puts on everything it creates, processes by the entry
 * `AGENT_RUN_ID=<run id>` that every step and service process carries in its
 * environment. Tests use it to check that nothing is left, and to clean up
 * after a failed check so one failure does not leak into the next test.
 */

import { readdirSync, readFileSync } from 'node:fs';
import { execa } from 'execa';
import { processAlive } from './processes.js';

/** A live process of a run: its pid and command line (arguments joined by spaces). */
export interface RunProcess {
  pid: number;
  command: string;
}

/** Everything of a run still on the machine. */
export interface RunLeftovers {
  /** Ids of containers labelled `agentfile.run=<run id>`, running or not. */
  containers: string[];
  /** Names of networks labelled `agentfile.run=<run id>`. */
  networks: string[];
  processes: RunProcess[];
}

/** Live (non-zombie) processes whose environment holds `AGENT_RUN_ID=<runId>`, from /proc. */
export function runProcesses(runId: string): RunProcess[] {
  const marker = `AGENT_RUN_ID=${runId}`;
  const found: RunProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    let environ: string[];
    let command: string;
    try {
      environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
    } catch {
      continue; // gone meanwhile, or not ours to read
    }
    if (environ.includes(marker) && processAlive(pid)) found.push({ pid, command });
  }
  return found;
}

/** Lines of a docker CLI command's output, without empty ones. */
async function dockerLines(args: string[]): Promise<string[]> {
  const r = await execa('docker', args);
  return r.stdout.split('\n').filter(Boolean);
}

/** The containers, networks and processes of run `runId` still on the machine. */
export async function runLeftovers(runId: string): Promise<RunLeftovers> {
  const label = `label=agentfile.run=${runId}`;
  const [containers, networks] = await Promise.all([
    dockerLines(['ps', '-aq', '--filter', label]),
    dockerLines(['network', 'ls', '--filter', label, '--format', '{{.Name}}']),
  ]);
  return { containers, networks, processes: runProcesses(runId) };
}

/** True when nothing of the run is left. */
export function isClean(leftovers: RunLeftovers): boolean {
  return (
    leftovers.containers.length === 0 &&
    leftovers.networks.length === 0 &&
    leftovers.processes.length === 0
  );
}

/** One line naming what is left, e.g. `2 containers (ab12…), 1 process (1234 sleep 30)`. */
export function describeLeftovers(leftovers: RunLeftovers): string {
  const parts: string[] = [];
  if (leftovers.containers.length > 0)
    parts.push(`containers ${leftovers.containers.map((id) => id.slice(0, 12)).join(', ')}`);
  if (leftovers.networks.length > 0) parts.push(`networks ${leftovers.networks.join(', ')}`);
  if (leftovers.processes.length > 0)
    parts.push(
      `processes ${leftovers.processes.map((p) => `${p.pid} (${p.command.slice(0, 80)})`).join(', ')}`,
    );
  return parts.length > 0 ? parts.join('; ') : 'nothing';
}

/**
 * Removes what run `runId` left: SIGKILL to each of its processes (by pid),
 * then its containers (forced, with their anonymous volumes) and networks.
 * Only for cleaning up after a failed check; touches nothing of other runs.
 */
export async function removeRunLeftovers(runId: string): Promise<void> {
  for (const p of runProcesses(runId)) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  const { containers, networks } = await runLeftovers(runId);
  if (containers.length > 0) await execa('docker', ['rm', '-fv', ...containers], { reject: false });
  if (networks.length > 0) await execa('docker', ['network', 'rm', ...networks], { reject: false });
}
