/**
 * The one place the runner tells processes and containers apart: which
 * executor runs a step, which runner starts a service, and how a run's
 * leftovers are found and removed. The Docker side is opened (and pinged)
 * only when the plan has a container step or a docker service.
 */

import {
  type ContainerEngine,
  EngineUnavailableError,
  type Executors,
  type ServiceRunner,
  type StepExecutor,
} from '../executors/types.js';
import type { Plan, ServiceNode, StepNode } from '../plan/compile.js';
import type { AttemptRecord } from '../store/types.js';
import { errorMessage } from './step-attempts.js';

/** The runtimes of one run. */
export class RunRuntimes {
  private network: string | undefined;

  private constructor(
    private readonly executors: Executors,
    private readonly docker: ContainerEngine | undefined,
  ) {}

  /**
   * Opens what `plan` needs.
   * @throws EngineUnavailableError when the plan needs Docker and the engine cannot be reached.
   */
  static async open(plan: Plan, executors: Executors): Promise<RunRuntimes> {
    if (!needsDocker(plan)) return new RunRuntimes(executors, undefined);
    if (!executors.docker)
      throw new EngineUnavailableError('this workflow needs Docker, and no engine is configured');
    const docker = await executors.docker();
    await docker.ping();
    return new RunRuntimes(executors, docker);
  }

  /**
   * Creates the run's network (Docker plans only).
   * @throws EngineUnavailableError when it cannot be created.
   */
  async createNetwork(runId: string): Promise<void> {
    if (!this.docker) return;
    try {
      this.network = await this.docker.createRunNetwork(runId);
    } catch (error) {
      if (error instanceof EngineUnavailableError) throw error;
      throw new EngineUnavailableError(
        `cannot create the run's Docker network: ${errorMessage(error)}`,
        'check `docker network ls`; remove unused networks with `docker network prune`',
      );
    }
  }

  stepExecutor(node: StepNode): StepExecutor {
    if (node.step.kind !== 'container') return this.executors.process;
    return this.requireDocker().steps(this.requireNetwork());
  }

  serviceRunner(node: ServiceNode): ServiceRunner {
    if (node.service.agent.runtime !== 'docker') return this.executors.processServices;
    return this.requireDocker().services(this.requireNetwork());
  }

  /**
   * After a killed session: kills the process groups its open attempts
   * recorded, then every process and container of the run. Never throws for
   * a process; a Docker error is rethrown.
   */
  async removeLeftovers(runId: string, openAttempts: readonly AttemptRecord[]): Promise<void> {
    for (const a of openAttempts) {
      if (a.pid !== null) this.executors.processes.killGroup(a.pid, runId);
    }
    await this.executors.processes.sweep(runId);
    if (this.docker) await this.docker.removeRunLeftovers(runId);
  }

  /** At the end of every run: every process and container of the run still there. Never throws. */
  async sweep(runId: string): Promise<void> {
    await this.executors.processes.sweep(runId).catch(() => undefined);
    if (this.docker) await this.docker.removeRunLeftovers(runId).catch(() => 0);
  }

  private requireDocker(): ContainerEngine {
    if (!this.docker) throw new Error('internal: a Docker node in a plan opened without Docker');
    return this.docker;
  }

  private requireNetwork(): string {
    if (!this.network) throw new Error('internal: the run network was not created');
    return this.network;
  }
}

function needsDocker(plan: Plan): boolean {
  return plan.nodes.some((n) =>
    n.kind === 'step' ? n.step.kind === 'container' : n.service.agent.runtime === 'docker',
  );
}
