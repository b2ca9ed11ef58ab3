/**
 * `agent doctor [FILE] [--fix]`: checks the state store and what runs leave
 * behind. SQLite's `integrity_check`; leases whose holder is gone; runs
 * recorded `running` whose runner died (interrupted); containers and
 * networks labelled `agentfile.run=<id>` of this store's runs that are not
 * running (Docker is optional: unreachable, it is reported and skipped);
 * processes carrying `AGENT_RUN_ID=<id>` of such runs. `--fix` removes the
 * stale leases and the leftovers. Exit 0 when healthy (or everything found
 * was fixed), 1 when problems remain.
 *
 * Only runs of this store are touched: Docker objects and processes of run
 * ids the store does not know belong to other projects' stores (the engine
 * and the machine are shared) and are left alone. A run is "running" while
 * some live lease names it (`read-store.ts` `leaseIsLive`, the store's rule).
 */

import { LABEL_RUN } from '../executors/types.js';
import {
  type DockerLeftovers,
  type DockerObject,
  type DoctorFindings,
  formatDoctor,
  type ProcessLeftover,
  remainingProblems,
  type StaleLease,
} from '../report/doctor.js';
import type { LeaseRecord, RunRecord, StateStore } from '../store/types.js';
import { watchStdout } from './closed-stdout.js';
import { type CliIo, ExitCode } from './common.js';
import {
  leaseIsLive,
  maintenanceOf,
  runsWithLiveLease,
  type StoreOptions,
  splitFileArgument,
  withExistingStore,
} from './read-store.js';
import { findRunProcesses, killRunProcess } from './run-processes.js';

/** Options of `agent doctor`, as commander parses them. */
export interface DoctorOptions extends StoreOptions {
  fix?: boolean;
}

/** How long the Docker engine may take to answer a ping before it counts as unreachable, in ms. */
const DOCKER_PING_TIMEOUT_MS = 5000;

/** Runs `agent doctor`; resolves with the exit code. @throws CliError */
export async function doctorCommand(
  args: (string | undefined)[],
  opts: DoctorOptions,
  io: CliIo,
): Promise<number> {
  const { file } = splitFileArgument(args, 0, 'agent doctor [FILE] [--fix]');
  watchStdout(io);
  return withExistingStore(file, opts, io, async (store, statePath) => {
    const findings = await examine(store, statePath);
    if (opts.fix) await fix(store, findings);
    for (const line of formatDoctor(findings, { fix: opts.fix === true })) {
      io.stdout.write(`${line}\n`);
    }
    return remainingProblems(findings) === 0 ? ExitCode.ok : ExitCode.failed;
  });
}

/** Why a lease is stale, or undefined for a live one. */
function staleness(lease: LeaseRecord, now: number): string | undefined {
  if (leaseIsLive(lease, { now })) return undefined;
  return lease.expiresAt < now
    ? `expired ${new Date(lease.expiresAt).toISOString()}`
    : 'its process is gone';
}

async function examine(store: StateStore, location: string): Promise<DoctorFindings> {
  const integrity = await maintenanceOf(store, 'doctor').integrityCheck();
  const now = Date.now();
  const leases = await store.listLeases();
  const staleLeases: StaleLease[] = [];
  const live = new Set<string>();
  for (const lease of leases) {
    const why = staleness(lease, now);
    if (why === undefined) live.add(lease.runId);
    else staleLeases.push({ lease, why });
  }
  const runs = new Map<string, RunRecord>((await store.listRuns()).map((r) => [r.id, r]));
  const interrupted = [...runs.values()].filter((r) => r.status === 'interrupted');
  // Leftovers are of runs this store knows and nobody runs.
  const idle = (runId: string) => runs.has(runId) && !live.has(runId);

  const scan = findRunProcesses();
  const processes: ProcessLeftover[] = scan.processes
    .filter((p) => idle(p.runId))
    .map((p) => ({ pid: p.pid, runId: p.runId, command: p.command }));

  return {
    store: location,
    integrity,
    staleLeases,
    interrupted,
    docker: await examineDocker(idle, (runId) => runs.has(runId)),
    processes: { supported: scan.supported, leftovers: processes },
  };
}

/** The Docker engine as doctor uses it, loaded only when doctor runs. */
type Engine = InstanceType<typeof import('../executors/docker.js')['DockerEngine']>;

let engine: Engine | undefined;

async function dockerEngine(): Promise<Engine> {
  if (!engine) {
    const { DockerEngine } = await import('../executors/docker.js');
    engine = new DockerEngine();
  }
  return engine;
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function examineDocker(
  idle: (runId: string) => boolean,
  known: (runId: string) => boolean,
): Promise<DoctorFindings['docker']> {
  let containers: { Id: string; Names: string[]; Labels: Record<string, string> }[];
  let networks: { Id: string; Name: string; Labels?: Record<string, string> }[];
  try {
    const e = await dockerEngine();
    await withTimeout(
      e.ping(),
      DOCKER_PING_TIMEOUT_MS,
      `the Docker engine at ${e.address} did not answer within ${DOCKER_PING_TIMEOUT_MS / 1000} s`,
    );
    const filters = { label: [LABEL_RUN] };
    containers = await e.call(() => e.docker.listContainers({ all: true, filters }));
    networks = await e.call(() => e.docker.listNetworks({ filters }));
  } catch (error) {
    return { reachable: false, error: (error as Error).message.split('\n')[0] ?? String(error) };
  }
  const byRun = new Map<string, DockerLeftovers>();
  let otherStores = 0;
  const entry = (runId: string) => {
    let d = byRun.get(runId);
    if (!d) {
      d = { runId, containers: [], networks: [] };
      byRun.set(runId, d);
    }
    return d;
  };
  const add = (runId: string | undefined, kind: 'containers' | 'networks', o: DockerObject) => {
    if (runId === undefined) return;
    if (!known(runId)) otherStores += 1;
    else if (idle(runId)) entry(runId)[kind].push(o);
  };
  for (const c of containers) {
    add(c.Labels[LABEL_RUN], 'containers', {
      id: c.Id,
      name: (c.Names[0] ?? '').replace(/^\//, ''),
    });
  }
  for (const n of networks) add(n.Labels?.[LABEL_RUN], 'networks', { id: n.Id, name: n.Name });
  const leftovers = [...byRun.values()].sort((a, b) => a.runId.localeCompare(b.runId));
  return { reachable: true, leftovers, otherStores };
}

/**
 * `--fix`: removes stale leases, Docker leftovers and leftover processes, and
 * records what became of each. A run that a runner took up again since the
 * examination (`--resume`) is dropped from the findings and left alone.
 */
async function fix(store: StateStore, f: DoctorFindings): Promise<void> {
  for (const s of f.staleLeases) {
    const { key, runId, pid, host } = s.lease;
    // Deletes the row only while this same holder has it: a runner that took it over keeps it.
    await store.releaseLease(key, runId, { pid, host });
    const now = await store.getLease(key);
    s.fixed = !now || now.runId !== runId || now.pid !== pid || now.host !== host;
  }
  const live = await runsWithLiveLease(store);
  f.processes.leftovers = f.processes.leftovers.filter((p) => !live.has(p.runId));
  if (f.docker.reachable) {
    f.docker.leftovers = f.docker.leftovers.filter((d) => !live.has(d.runId));
    const e = await dockerEngine();
    for (const d of f.docker.leftovers) {
      try {
        d.fixed = { removed: await e.removeRunLeftovers(d.runId) };
      } catch (error) {
        d.fixed = { error: (error as Error).message.split('\n')[0] ?? String(error) };
      }
    }
  }
  for (const p of f.processes.leftovers) p.fixed = killRunProcess(p);
}
