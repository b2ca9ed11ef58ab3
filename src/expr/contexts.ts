/**
 * The names an expression may use: its contexts, the fields agentfile defines
 * inside some of them, and the status functions. One list shared by the
 * parser (which rejects any other context), evaluation and lint.
 */

import { isTerminalStep, type StepStatus } from '../core/status.js';

/**
 * Every context an expression may name. Which of them a given field may use
 * is the caller's choice (`StaticScope.contexts`); the parser knows all
 * of them, so a context used in the wrong place is reported by name rather
 * than as a syntax error.
 *
 * | context    | holds                                                                                                   |
 * | ---------- | ------------------------------------------------------------------------------------------------------- |
 * | `inputs`   | the run's inputs by name: strings, numbers and booleans (a `choice` input is a string)                  |
 * | `env`      | the environment the field sees: the runner's own, then the workflow's and the step's `env`; open, any key |
 * | `steps`    | `steps.<id>.outputs.<name>` (strings) and `steps.<id>.status` (a {@link STEP_RESULT_STATUSES} value)    |
 * | `services` | `services.<name>.host`, `.port` and `.url`: where the current step reaches a service                    |
 * | `matrix`   | `matrix.<key>`: the current combination of a matrix step                                                |
 * | `run`      | `run.id` (the run's id) and `run.attempt` (the attempt number the runner supplies)                      |
 * | `secrets`  | the declared secrets by name                                                                            |
 *
 * Names are matched case-insensitively, as GitHub Actions does (`Inputs.X` is
 * `inputs.x`). The list is also the parser's "extension contexts": the
 * library knows no context of its own.
 */
export const CONTEXT_NAMES = [
  'inputs',
  'env',
  'steps',
  'services',
  'matrix',
  'run',
  'secrets',
] as const;

/** One of {@link CONTEXT_NAMES}. */
export type ContextName = (typeof CONTEXT_NAMES)[number];

/** The fields of `steps.<id>`. agentfile has no `outcome` / `conclusion`: `status` is the step's final state. */
export const STEP_FIELDS = ['outputs', 'status'] as const;

/** The fields of `services.<name>`. */
export const SERVICE_FIELDS = ['host', 'port', 'url'] as const;

/** The fields of `run`. */
export const RUN_FIELDS = ['id', 'attempt'] as const;

/** Every step status, so that the compiler flags a status added to {@link StepStatus} here too. */
const ALL_STEP_STATUSES: Record<StepStatus, true> = {
  pending: true,
  running: true,
  waiting: true,
  succeeded: true,
  failed: true,
  timed_out: true,
  cancelled: true,
  skipped: true,
};

/**
 * The values `steps.<id>.status` can hold when another step reads it: the
 * terminal step states of `src/core/status.ts` (`succeeded`, `failed`,
 * `timed_out`, `cancelled`, `skipped`), since a step's fields are read only
 * after it ended.
 */
export const STEP_RESULT_STATUSES: readonly StepStatus[] = (
  Object.keys(ALL_STEP_STATUSES) as StepStatus[]
).filter(isTerminalStep);

/**
 * The status functions, in GitHub Actions' sense: `success()`, `failure()`,
 * `cancelled()` read the state of the steps before the current one and
 * `always()` is true. Registered with the parser as extension functions with
 * no arguments (as GitHub's workflow parser does); meaningful only in `if:`.
 */
export const STATUS_FUNCTIONS = ['success', 'failure', 'always', 'cancelled'] as const;

/**
 * Every function name, spelt as the GitHub documentation spells it (calls are
 * case-insensitive): the library's built-ins (its `wellKnownFunctions`) and
 * the status functions. For "did you mean" hints.
 */
export const FUNCTION_NAMES: readonly string[] = [
  'contains',
  'startsWith',
  'endsWith',
  'format',
  'join',
  'toJSON',
  'fromJSON',
  'case',
  ...STATUS_FUNCTIONS,
];
