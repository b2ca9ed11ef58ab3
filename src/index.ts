/**
 * agentfile's library API: load and lint configuration, compile a plan, run
 * it, and read runs from the state store. The `agent` CLI is a thin layer
 * over these; nothing here prints or exits. See docs/library.md.
 */

export {
  type Diagnostic,
  formatDiagnostic,
  hasErrors,
  type LoadResult,
  loadProject,
  type Severity,
  sortDiagnostics,
} from './config/index.js';
export type * from './config/model.js';
export {
  EVENT_VERSION,
  type EventListener,
  RUN_EVENT_TYPES,
  type RunEvent,
  type RunEventType,
  type StoredEvent,
} from './core/events.js';
export type { RunState, RunStatus, ServiceStatus, StepStatus } from './core/status.js';
export {
  EngineUnavailableError,
  type Executors,
  ServiceStartError,
} from './executors/types.js';
export {
  InvalidConfigError,
  type LintResult,
  lint,
  listRuns,
  plan,
  type RunHandle,
  type StartRunOptions,
  startRun,
} from './library.js';
export { compilePlan, type Plan, PlanError, type PlanNode } from './plan/compile.js';
export { planToJson, renderPlanDot, renderPlanMermaid, renderPlanText } from './plan/render.js';
export { ListrReporter } from './report/listr.js';
export { JsonReporter, PlainReporter } from './report/plain.js';
export type { Reporter } from './report/types.js';
export { decideSession, FromError } from './run/resume.js';
export {
  ResumeError,
  type RunResult,
  type RunWorkflowOptions,
  runWorkflow,
} from './run/runner.js';
export { MemoryStateStore } from './store/memory-state-store.js';
export { defaultStatePath, resolveStatePath } from './store/paths.js';
export { SqliteStateStore } from './store/sqlite-state-store.js';
export {
  LockedError,
  type RunRecord,
  type StateStore,
  type StepRecord,
  StoreError,
} from './store/types.js';
export { defaultExecutors, openStateStore } from './wiring.js';
