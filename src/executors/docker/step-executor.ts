/**
 * Container steps: each attempt runs in a fresh container of the step's
 * image on the run network (`docker run --rm` semantics).
 *
 * A step's outputs file (`spec.outputFile`) is bind-mounted at
 * `/run/agent/output` and named by `AGENT_OUTPUT`; its secret files are
 * copied to `/run/secrets/` before it starts (see `secrets.ts`); its
 * output is masked by `spec.redact`. The bind mount needs the engine to see
 * the runner's file system (a local engine, or Docker Desktop's shared
 * paths), as every bind mount does.
 */

import type Dockerode from 'dockerode';
import { watchAttempt } from '../attempt-watch.js';
import { openOutputSink } from '../output.js';
import { CONTAINER_OUTPUT_FILE_MODE, prepareOutputFile } from '../output-file.js';
import {
  type AttemptResult,
  type AttemptSpec,
  CONTAINER_OUTPUT_PATH,
  ENV_OUTPUT,
  EngineUnavailableError,
  type StepExecutor,
} from '../types.js';
import { apiMessage, engineLostError, settlesWithin } from './api.js';
import {
  DEFAULT_CONTAINER_STEP_GRACE_MS,
  destroyStream,
  LOST_ENGINE_CLEANUP_MS,
  pipeContainerOutput,
  removeContainer,
  signalOf,
  startFailure,
  stopContainer,
} from './containers.js';
import { formatBytes, stepCreateOptions } from './create-options.js';
import type { DockerEngine } from './engine.js';
import { waitForExit } from './exit-watch.js';
import { createNamedContainer } from './prepare.js';
import { putSecretFiles, secretFilesArchive } from './secrets.js';

/** Options of {@link DockerExecutor}. */
export interface DockerExecutorOptions {
  engine: DockerEngine;
  /** The run network to join. Default: `createRunNetwork(spec.runId)` for each attempt. */
  network?: string;
  /** ms between the stop signal and SIGKILL on timeout or abort. Default {@link DEFAULT_CONTAINER_STEP_GRACE_MS}. */
  graceMs?: number;
}

/**
 * Runs step attempts as containers (`docker run --rm` semantics): the
 * container joins the run network with the step id as alias, its output is
 * streamed line by line, and it is always removed afterwards.
 */
export class DockerExecutor implements StepExecutor {
  private readonly engine: DockerEngine;
  private readonly network: string | undefined;
  private readonly graceMs: number;

  constructor(options: DockerExecutorOptions) {
    this.engine = options.engine;
    this.network = options.network;
    this.graceMs = options.graceMs ?? DEFAULT_CONTAINER_STEP_GRACE_MS;
  }

  /**
   * Runs one attempt in a container of `spec.image` (pulled when missing).
   * `Cmd` is `spec.command` (the image's entrypoint is kept), `WorkingDir`
   * `spec.workdir`, `Env` `spec.env` only (the runner's environment is not
   * passed into containers), plus `AGENT_OUTPUT=/run/agent/output` when
   * `spec.outputFile` is given: that host file is created when missing,
   * made mode 0666 ({@link CONTAINER_OUTPUT_FILE_MODE}) and bind-mounted
   * read-write there. `spec.secretFiles` are copied into the created
   * container as `/run/secrets/<name>` (mode 0444, owner root) before it
   * starts. Output is masked by `spec.redact` (the result's error text is
   * never made of output). A missing image or command, a non-zero exit, a
   * timeout and an abort are results; an out-of-memory kill has `reason:
   * 'oom'` and the error `out of memory (limit 32Mi)`. An
   * invalid secret file name (`invalid secret file name "a/b": ...`, before
   * any container exists) and a copy the engine refuses (`cannot copy the
   * secret files into the container: ...`) are failures too. An abort that
   * breaks the image's pull is a cancellation, not an engine failure.
   *
   * @throws EngineUnavailableError when the engine cannot be reached or does
   *   not answer at any call (`cannot reach the Docker engine at <address>:
   *   <reason>`), or goes away while the container runs or just as it ends
   *   (`the Docker engine at <address> went away while step "<id>" was
   *   running (<reason>)`, see {@link waitForExit}). The container is then
   *   left as it is (removal is tried for at most
   *   {@link LOST_ENGINE_CLEANUP_MS}); its labels let `removeRunLeftovers`
   *   find it.
   * @throws the file system error when the log file or the outputs file
   *   cannot be created.
   */
  async runAttempt(spec: AttemptSpec): Promise<AttemptResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const cancelledResult = (): AttemptResult => ({
      exitCode: null,
      timedOut: false,
      cancelled: true,
      error: 'cancelled',
      durationMs: elapsed(),
    });
    const failed = (error: string): AttemptResult => ({
      exitCode: null,
      timedOut: false,
      cancelled: false,
      error,
      durationMs: elapsed(),
    });
    if (spec.signal.aborted) return cancelledResult();
    if (spec.image === undefined) return failed(`step "${spec.stepId}" has no image`);
    let secrets: Buffer | undefined;
    try {
      secrets = await secretFilesArchive(spec.secretFiles);
    } catch (error) {
      return failed((error as Error).message);
    }

    try {
      await this.engine.ensureStepImage(spec.image, { signal: spec.signal });
    } catch (error) {
      if (spec.signal.aborted) return cancelledResult();
      if (error instanceof EngineUnavailableError) throw error;
      return failed((error as Error).message);
    }
    const network = this.network ?? (await this.engine.createRunNetwork(spec.runId));
    if (spec.signal.aborted) return cancelledResult();

    if (spec.outputFile !== undefined) {
      await prepareOutputFile(spec.outputFile, CONTAINER_OUTPUT_FILE_MODE);
    }
    const sink = await openOutputSink({
      logFile: spec.logFile,
      onOutput: spec.onOutput,
      redact: spec.redact,
    });
    const env =
      spec.outputFile !== undefined
        ? { ...spec.env, [ENV_OUTPUT]: CONTAINER_OUTPUT_PATH }
        : spec.env;
    let container: Dockerode.Container | undefined;
    let attached: NodeJS.ReadableStream | undefined;
    let engineLost = false;
    try {
      try {
        container = await createNamedContainer(
          this.engine,
          stepCreateOptions({
            runId: spec.runId,
            stepId: spec.stepId,
            attempt: spec.attempt,
            image: spec.image,
            command: spec.command,
            ...(spec.workdir !== undefined ? { workdir: spec.workdir } : {}),
            env,
            ...(spec.outputFile !== undefined ? { outputFile: spec.outputFile } : {}),
            network,
            ...(spec.resources !== undefined ? { resources: spec.resources } : {}),
            ...(spec.security !== undefined ? { security: spec.security } : {}),
          }),
        );
      } catch (error) {
        if (error instanceof EngineUnavailableError) throw error;
        return failed(`cannot create the container: ${apiMessage(error)}`);
      }
      const created = container;
      try {
        await putSecretFiles(this.engine, created, secrets);
      } catch (error) {
        if (error instanceof EngineUnavailableError) throw error;
        return failed(`cannot copy the secret files into the container: ${apiMessage(error)}`);
      }
      const stream = await this.engine.call(() =>
        created.attach({ stream: true, stdout: true, stderr: true }),
      );
      attached = stream;
      const outputDone = pipeContainerOutput(this.engine, stream, sink);
      if (spec.signal.aborted) return cancelledResult();
      try {
        await this.engine.call(() => created.start());
      } catch (error) {
        if (error instanceof EngineUnavailableError) throw error;
        return failed(startFailure(error));
      }
      if (spec.onStarted) {
        try {
          spec.onStarted({ containerId: created.id });
        } catch {
          // The store's bookkeeping failing is not the step's failure.
        }
      }

      let stopping: Promise<void> | undefined;
      const watch = watchAttempt({
        timeoutMs: spec.timeoutMs,
        signal: spec.signal,
        stopping: () => stopping !== undefined,
        stop: () => {
          stopping ??= stopContainer(this.engine, created, this.graceMs).catch(() => undefined);
        },
      });
      const what = `step "${spec.stepId}"`;
      let exitCode: number;
      try {
        ({ exitCode } = await waitForExit({
          engine: this.engine,
          container: created,
          what,
          outputEnded: outputDone,
        }));
      } finally {
        watch.dispose();
      }
      const { timedOut, cancelled } = watch;
      await stopping;
      await settlesWithin(outputDone, 2000);
      let state: Dockerode.ContainerInspectInfo['State'] | undefined;
      try {
        state = (await this.engine.call(() => created.inspect())).State;
        // The engine records an OOM kill from the cgroup's event, which can
        // arrive after the exit: a failed container with a memory limit is
        // looked at again for a moment before its failure counts as a plain one:
        // up to 3 s after a SIGKILL (137, the OOM killer's signal; CI under
        // load saw more than 1 s), 1 s after any other failure.
        const limited = spec.resources?.limits.memoryBytes !== undefined;
        const looks = exitCode === 137 ? 30 : 10;
        for (let i = 0; limited && exitCode !== 0 && !state?.OOMKilled && i < looks; i++) {
          await new Promise((r) => setTimeout(r, 100));
          state = (await this.engine.call(() => created.inspect())).State;
        }
      } catch (error) {
        // The engine went away as the container ended: its exit may be the
        // engine's doing (a daemon that stops kills its containers).
        if (error instanceof EngineUnavailableError)
          throw engineLostError(this.engine, `${what} was running`, error);
      }

      const durationMs = elapsed();
      if (timedOut || cancelled) {
        const signal = signalOf(exitCode);
        return {
          exitCode: null,
          ...(signal ? { signal } : {}),
          timedOut,
          cancelled,
          error: timedOut ? `timed out after ${spec.timeoutMs} ms` : 'cancelled',
          durationMs,
        };
      }
      if (state?.OOMKilled) {
        const limit = spec.resources?.limits.memoryBytes;
        return {
          exitCode,
          timedOut,
          cancelled,
          error: `out of memory${limit !== undefined ? ` (limit ${formatBytes(limit)})` : ''}`,
          reason: 'oom',
          durationMs,
        };
      }
      if (exitCode === 0) return { exitCode, timedOut, cancelled, durationMs };
      return { exitCode, timedOut, cancelled, error: `exit code ${exitCode}`, durationMs };
    } catch (error) {
      engineLost = error instanceof EngineUnavailableError;
      throw error;
    } finally {
      // Closed here whatever happened: an attach to a container removed
      // before it started is never closed by the engine (Docker 20.10).
      destroyStream(attached);
      if (container) {
        await removeContainer(
          this.engine,
          container,
          engineLost ? LOST_ENGINE_CLEANUP_MS : undefined,
        );
      }
      await sink.close();
    }
  }
}
