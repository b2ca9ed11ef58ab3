/**
 * Run, step and service states as string unions, with exhaustive switches
 * wherever they are read.
 */

/** A run's status. `running` with a stale lease means the runner was killed. */
export type RunStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/** A step's status within a run. `skipped`: a step it needs failed, or the run stopped first. */
export type StepStatus =
  | 'pending'
  | 'running'
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

/** Terminal step states: nothing more will happen to the step in this run. */
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
      return false;
  }
}
