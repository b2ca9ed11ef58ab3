/**
 * What `agent doctor` found, as data, and its text form. Pure: the command
 * (`src/cli/doctor-command.ts`) gathers the findings and applies `--fix`.
 *
 * A *problem* is something wrong that `--fix` (or a person) should remove: a
 * store that fails SQLite's integrity check, a stale lease, containers,
 * networks or processes left behind by runs that are not running. A
 * *note* is worth knowing but is not wrong: an interrupted run (its runner
 * died; `agent run --resume` continues it), Docker or `/proc` that could
 * not be looked at, Docker objects of runs of another store.
 */

import type { LeaseRecord, RunRecord } from '../store/types.js';

/** A container or network labelled with a run's id. */
export interface DockerObject {
  id: string;
  name: string;
}

/** What a run that is not running left in Docker. */
export interface DockerLeftovers {
  runId: string;
  containers: DockerObject[];
  networks: DockerObject[];
  /** With `--fix`: how many were removed, or why they could not be. */
  fixed?: { removed: number } | { error: string };
}

/** A process left behind, with what `--fix` did to it. */
export interface ProcessLeftover {
  pid: number;
  runId: string;
  command: string;
  fixed?: 'killed' | 'gone' | 'not-permitted';
}

/** A lease whose holder is gone. */
export interface StaleLease {
  lease: LeaseRecord;
  /** `expired 2026-…` or `its process is gone`. */
  why: string;
  fixed?: boolean;
}

/** Everything `agent doctor` looked at. */
export interface DoctorFindings {
  /** The store's location, for the header. */
  store: string;
  /** SQLite `integrity_check`: `['ok']` when sound. */
  integrity: string[];
  staleLeases: StaleLease[];
  interrupted: RunRecord[];
  docker:
    | { reachable: true; leftovers: DockerLeftovers[]; otherStores: number }
    | { reachable: false; error: string };
  processes: { supported: boolean; leftovers: ProcessLeftover[] };
}

/** Problems that remain: found and not fixed. */
export function remainingProblems(f: DoctorFindings): number {
  let n = f.integrity.length === 1 && f.integrity[0] === 'ok' ? 0 : 1;
  n += f.staleLeases.filter((l) => !l.fixed).length;
  if (f.docker.reachable) {
    n += f.docker.leftovers.filter((d) => d.fixed === undefined || 'error' in d.fixed).length;
  }
  n += f.processes.leftovers.filter((p) => p.fixed !== 'killed' && p.fixed !== 'gone').length;
  return n;
}

/** Problems found, fixed or not. */
export function foundProblems(f: DoctorFindings): number {
  return (
    (f.integrity.length === 1 && f.integrity[0] === 'ok' ? 0 : 1) +
    f.staleLeases.length +
    (f.docker.reachable ? f.docker.leftovers.length : 0) +
    f.processes.leftovers.length
  );
}

const time = (ms: number) => `${new Date(ms).toISOString().replace('T', ' ').slice(0, 19)} UTC`;
const count = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The findings as text lines (no trailing newlines), one section per check, then the verdict. */
export function formatDoctor(f: DoctorFindings, options: { fix: boolean }): string[] {
  const lines = [`store ${f.store}`];
  const ok = f.integrity.length === 1 && f.integrity[0] === 'ok';
  lines.push(ok ? 'integrity: ok' : `integrity: PROBLEM: SQLite's integrity check failed:`);
  if (!ok) {
    for (const l of f.integrity.slice(0, 20)) lines.push(`  ${l}`);
    if (f.integrity.length > 20) lines.push(`  ... and ${f.integrity.length - 20} more`);
    lines.push(
      '  restore a backup (agent backup), or copy what can be read with `sqlite3 .recover`',
    );
  }

  if (f.staleLeases.length === 0) lines.push('leases: ok');
  else {
    lines.push(
      `leases: PROBLEM: ${count(f.staleLeases.length, 'stale lease')} (the holder is gone)`,
    );
    for (const s of f.staleLeases) {
      const l = s.lease;
      lines.push(
        `  ${l.key}: run ${l.runId}, pid ${l.pid} on ${l.host}, ${s.why}${s.fixed ? ' (removed)' : ''}`,
      );
    }
  }

  if (f.interrupted.length === 0) lines.push('interrupted runs: none');
  else {
    lines.push(
      `interrupted runs: ${f.interrupted.length} (note: their runner died; not a problem of the store)`,
    );
    for (const r of f.interrupted) {
      lines.push(
        `  ${r.id} (${r.workflow}, created ${time(r.createdAt)}): \`agent run --resume ${r.id}\` continues it, \`agent cancel ${r.id}\` ends it`,
      );
    }
  }

  if (!f.docker.reachable) {
    lines.push(`docker: not checked (note: ${f.docker.error})`);
  } else if (f.docker.leftovers.length === 0) {
    lines.push(
      `docker: ok${f.docker.otherStores > 0 ? ` (${count(f.docker.otherStores, 'object')} of runs of other stores left alone)` : ''}`,
    );
  } else {
    const containers = f.docker.leftovers.reduce((n, d) => n + d.containers.length, 0);
    const networks = f.docker.leftovers.reduce((n, d) => n + d.networks.length, 0);
    lines.push(
      `docker: PROBLEM: ${count(containers, 'container')} and ${count(networks, 'network')} left by ${count(f.docker.leftovers.length, 'run')} that ${f.docker.leftovers.length === 1 ? 'is' : 'are'} not running`,
    );
    for (const d of f.docker.leftovers) {
      const what = [
        ...d.containers.map((c) => `container ${c.name || c.id.slice(0, 12)}`),
        ...d.networks.map((n) => `network ${n.name}`),
      ].join(', ');
      const fixed =
        d.fixed === undefined
          ? ''
          : 'error' in d.fixed
            ? ` (could not remove: ${d.fixed.error})`
            : ' (removed)';
      lines.push(`  ${d.runId}: ${what}${fixed}`);
    }
    if (f.docker.otherStores > 0) {
      lines.push(`  (${count(f.docker.otherStores, 'object')} of runs of other stores left alone)`);
    }
  }

  if (!f.processes.supported) {
    lines.push('processes: not checked (note: no readable /proc on this system)');
  } else if (f.processes.leftovers.length === 0) {
    lines.push('processes: ok');
  } else {
    lines.push(
      `processes: PROBLEM: ${count(f.processes.leftovers.length, 'process', 'processes')} left by runs that are not running`,
    );
    for (const p of f.processes.leftovers) {
      const fixed =
        p.fixed === undefined
          ? ''
          : p.fixed === 'killed'
            ? ' (killed)'
            : p.fixed === 'gone'
              ? ' (already gone)'
              : ' (not permitted to kill it)';
      lines.push(`  ${p.runId}: pid ${p.pid} ${p.command}${fixed}`);
    }
  }

  const found = foundProblems(f);
  const left = remainingProblems(f);
  if (found === 0) lines.push('healthy: no problems found');
  else if (left === 0) lines.push(`fixed ${count(found, 'problem')}`);
  else if (options.fix) lines.push(`${count(left, 'problem')} left that --fix could not remove`);
  else
    lines.push(
      `${count(left, 'problem')} found; \`agent doctor --fix\` removes stale leases and leftovers`,
    );
  return lines;
}
