/**
 * agentfile's library API: load and lint configuration, compile a plan, run
 * it. The `agent` CLI is a thin layer over these; nothing here prints or
 * exits.
 *
 * ```ts
 * import { loadProject, compilePlan, runWorkflow, defaultExecutors, Store } from 'agentfile';
 *
 * const { project, diagnostics } = await loadProject('agent.yaml');
 * if (!project) throw new Error(diagnostics.map((d) => d.message).join('\n'));
 * const plan = compilePlan(project.workflows[0]!);
 * const store = Store.open({ path: '.agentfile/state.db' });
 * const result = await runWorkflow({ plan, store, statePath: '.agentfile/state.db', executors: defaultExecutors() });
 * ```
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
export { EngineUnavailableError, ServiceStartError } from './executors/types.js';
export { compilePlan, type Plan, PlanError, type PlanNode } from './plan/compile.js';
export { planToJson, renderPlanText } from './plan/render.js';
export { ListrReporter } from './report/listr.js';
export { JsonReporter, PlainReporter } from './report/plain.js';
export type { Reporter } from './report/types.js';
export type { RunEvent } from './run/events.js';
export { defaultExecutors } from './run/executors.js';
export {
  type Executors,
  ResumeError,
  type RunResult,
  type RunWorkflowOptions,
  runWorkflow,
} from './run/runner.js';
export type { RunStatus, ServiceStatus, StepStatus } from './run/status.js';
export { defaultStatePath, resolveStatePath, Store } from './store/store.js';
export { LockedError, StoreError } from './store/types.js';
