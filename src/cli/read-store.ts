/**
 * What the reading and maintenance commands share: telling a run id from a
 * workflow file among optional arguments, opening an existing store (never
 * creating one), finding a run, and whether a run's runner is alive.
 */

import { leaseIsLive } from '../store/lease.js';
import type { RunRecord, StateStore } from '../store/types.js';
import { CliError, type CliIo, ExitCode } from './common.js';
import { openStore, statePathFor } from './state-store.js';

/** The default workflow file, whose store a command reads when no file is named. */
export const DEFAULT_FILE = 'agent.yaml';

/** True for an argument that names a workflow file rather than a run or a step: it ends in `.yaml` or `.yml`. */
export function looksLikeFile(arg: string): boolean {
  return /\.ya?ml$/i.test(arg);
}

/**
 * Sorts optional positional arguments into the ones before the workflow
 * file and the file: `agent status agent.yaml` names the file, `agent status
 * RUN` a run. The file is the argument that {@link looksLikeFile}, or else
 * the last one when there is one more than `maxNames`; `names` are the
 * others, in order.
 *
 * @throws CliError (exit 2) for more arguments than `maxNames` plus a file.
 */
export function splitFileArgument(
  args: readonly (string | undefined)[],
  maxNames: number,
  usage: string,
): { names: string[]; file: string } {
  const given = args.filter((a): a is string => a !== undefined);
  let fileIndex = given.findIndex(looksLikeFile);
  // A file with another extension is recognised by its place: one argument too many.
  if (fileIndex < 0 && given.length > maxNames) fileIndex = given.length - 1;
  const names = given.filter((_, i) => i !== fileIndex);
  if (names.length > maxNames) {
    throw new CliError(
      `too many arguments: ${given.join(' ')}`,
      ExitCode.invalid,
      `usage: ${usage}`,
    );
  }
  return { names, file: fileIndex >= 0 ? (given[fileIndex] as string) : DEFAULT_FILE };
}

/** Options every reading command takes. */
export interface StoreOptions {
  state?: string;
}

/**
 * Opens the existing store of `file` (or `--state`, `AGENTFILE_STATE`), runs
 * `fn` and closes it.
 * @throws CliError exit 2 when there is no store, exit 4 when it cannot be opened.
 */
export async function withExistingStore<T>(
  file: string,
  opts: StoreOptions,
  io: CliIo,
  fn: (store: StateStore, statePath: string) => Promise<T>,
): Promise<T> {
  const statePath = statePathFor(file, opts.state, io);
  const store = await openStore(statePath, { mustExist: true, cwd: io.cwd });
  try {
    return await fn(store, statePath);
  } finally {
    await store.close();
  }
}

/**
 * The run `id`, or the newest run of the store when `id` is undefined.
 * @throws CliError (exit 2) when there is no such run, or no run at all.
 */
export async function findRun(store: StateStore, id: string | undefined): Promise<RunRecord> {
  if (id === undefined) {
    const [newest] = await store.listRuns({ limit: 1 });
    if (!newest) {
      throw new CliError(`no runs in ${store.location}`, ExitCode.invalid, 'run a workflow first');
    }
    return newest;
  }
  const run = await store.getRun(id);
  if (!run) {
    throw new CliError(
      `no run "${id}" in the state store`,
      ExitCode.invalid,
      'list runs with `agent runs`',
    );
  }
  return run;
}

/** How many of the newest runs a lookup by agent or step name looks through. */
export const NAME_LOOKBACK = 100;

/**
 * The newest run (of the last {@link NAME_LOOKBACK}) with a step or service
 * named `name`, optionally only one in a state `accept` takes; undefined
 * when there is none.
 */
export async function newestRunWith(
  store: StateStore,
  name: string,
  accept: (run: RunRecord) => boolean = () => true,
): Promise<RunRecord | undefined> {
  for (const run of await store.listRuns({ limit: NAME_LOOKBACK })) {
    if (!accept(run)) continue;
    if ((await store.getSteps(run.id)).some((s) => s.id === name)) return run;
  }
  return undefined;
}

export { type LivenessOptions, leaseIsLive, pidAlive } from '../store/lease.js';

/** Ids of the runs some live lease names: their runner (or a control command) is at work on them. */
export async function runsWithLiveLease(store: StateStore, now = Date.now()): Promise<Set<string>> {
  const leases = await store.listLeases();
  return new Set(leases.filter((l) => leaseIsLive(l, { now })).map((l) => l.runId));
}

/** How often `--follow` looks at the store (and the log files), in ms. */
export const FOLLOW_POLL_MS = 200;

/** Resolves after `ms`, or at once when `signal` aborts (stdout closed). */
export function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Maintenance a store may offer beyond {@link StateStore} (the SQLite store does). */
export interface StoreMaintenance {
  /** `['ok']` for a sound store, else one line per problem. */
  integrityCheck(): Promise<string[]>;
  /** Gives freed space back and refreshes the query planner's statistics. */
  vacuum(): Promise<void>;
  /** A consistent online copy at `destination`; resolves with the pages copied. */
  backup(destination: string): Promise<number>;
}

/**
 * The maintenance methods of `store`.
 * @throws CliError (exit 2) for a store that has none (not SQLite).
 */
export function maintenanceOf(store: StateStore, command: string): StoreMaintenance {
  const s = store as Partial<StoreMaintenance>;
  if (
    typeof s.integrityCheck !== 'function' ||
    typeof s.vacuum !== 'function' ||
    typeof s.backup !== 'function'
  ) {
    throw new CliError(
      `agent ${command} works on SQLite stores only, not ${store.location}`,
      ExitCode.invalid,
    );
  }
  return store as unknown as StoreMaintenance;
}
