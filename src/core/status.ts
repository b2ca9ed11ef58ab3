/**
 * Run, step and service states as string unions, with exhaustive switches
 * wherever they are read. Shared by `run/` (which produces them), `store/`
 * (which records them) and the reporters (which show them); nothing here
 * imports from those layers.
 */

/**
 * A run's recorded status (DESIGN.md's list).
 *
 * - `queued`: recorded, not started yet (a new run before its first event of work);
 * - `running`: a runner holds its lease and is working on it;
 * - `paused`: `agent pause` stopped new work; `agent run --resume` continues it;
 * - `waiting`: an approval step is pending and nothing else could run; `agent
 *   approve` then `--resume` continues it;
 * - `succeeded | failed | cancelled`: how its last session ended.
 */
export type RunStatus =
  | 'queued'
  | 'running'
  | 'paused'
  | 'waiting'
  | 'succeeded'
  | 'failed'
  | 'cancelled';

/**
 * A run's status as readers see it: a `running` (or `queued`) run whose
 * runner is gone (no live lease: kill -9, a crash, a lost machine) reads as
 * `interrupted`, which `--resume` continues.
 */
export type RunState = RunStatus | 'interrupted';

/** Run statuses `agent run --resume` continues. */
export const RESUMABLE_RUN_STATES: readonly RunState[] = [
  'failed',
  'cancelled',
  'paused',
  'waiting',
  'interrupted',
];

/**
 * A step's status within a run. `skipped`: a step it needs failed, or the run
 * stopped first. `waiting`: an approval step waiting for `agent approve`.
 */
export type StepStatus =
  | 'pending'
  | 'running'
  | 'waiting'
  | 'succeeded'
  | 'failed'
  | 'timed_out'
  | 'cancelled'
  | 'skipped';

/** A service's status within a run. */
export type ServiceStatus =
  | 'pending'
  | 'starting'
  | 'healthy'
  | 'unhealthy'
  | 'failed'
  | 'stopped'
  | 'cancelled';

/** Terminal step states: nothing more will happen to the step in this run session. */
export function isTerminalStep(s: StepStatus): boolean {
  switch (s) {
    case 'succeeded':
    case 'failed':
    case 'timed_out':
    case 'cancelled':
    case 'skipped':
      return true;
    case 'pending':
    case 'running':
    case 'waiting':
      return false;
  }
}

/** Whether a run in this state has finished for good (`--resume` has nothing to do but a failed run's retry). */
export function isFinalRunState(s: RunState): boolean {
  switch (s) {
    case 'succeeded':
    case 'failed':
    case 'cancelled':
      return true;
    case 'queued':
    case 'running':
    case 'paused':
    case 'waiting':
    case 'interrupted':
      return false;
  }
}
