/**
 * `agent run -d FILE` (`docker compose up -d`): the agents of a file start in
 * a runner of their own, in the background, and this command returns once
 * every one is healthy, printing their container ids (or, for process
 * agents, their names). The background runner owns them as any runner does:
 * `agent stop NAME` ends it (and removes them), `agent logs NAME -f` follows
 * them, `agent ps` lists them.
 *
 * The runner is this same command without `-d`, started detached with
 * `--output json`; its events tell when every service is healthy. If it
 * fails first, its exit code and reason are this command's.
 */

import { execa } from 'execa';
import type { StoredEvent } from '../core/events.js';
import { EngineUnavailableError, LABEL_RUN, LABEL_STEP } from '../executors/types.js';
import { CliError, type CliIo, ExitCode } from './common.js';

/** The argv of `agent run` without `-d` / `--detach`, and with `--output json` last (it wins). */
export function backgroundArgv(argv: readonly string[]): string[] {
  return [...argv.filter((a) => a !== '-d' && a !== '--detach'), '--output', 'json'];
}

/**
 * Starts the background runner and waits until every service of its run is
 * healthy; resolves with the exit code (0).
 * @throws CliError with the runner's exit code when it ends (or a service
 *   fails) first.
 */
export async function detachRun(
  entry: string,
  argv: readonly string[],
  io: CliIo,
): Promise<number> {
  const child = execa(process.execPath, [entry, ...backgroundArgv(argv)], {
    cwd: io.cwd,
    env: io.env,
    extendEnv: false,
    detached: true,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    reject: false,
    buffer: false,
  });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => {
    stderr = (stderr + b.toString('utf8')).slice(-4000);
  });
  const outcome = await new Promise<
    | { ok: true; runId: string; services: string[] }
    | { ok: false; exitCode: number; message: string }
  >((resolve) => {
    let buffered = '';
    let runId = '';
    let services: string[] = [];
    const healthy = new Set<string>();
    child.stdout?.on('data', (b: Buffer) => {
      buffered += b.toString('utf8');
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        let e: StoredEvent;
        try {
          e = JSON.parse(line) as StoredEvent;
        } catch {
          continue;
        }
        if (e.type === 'run.started') {
          runId = e.runId;
          services = e.nodes.filter((n) => n.kind === 'service').map((n) => n.id);
        } else if (e.type === 'service.status') {
          if (e.status === 'healthy') healthy.add(e.service);
          else if (e.status === 'failed' || e.status === 'unhealthy') {
            resolve({
              ok: false,
              exitCode: ExitCode.failed,
              message: `service ${e.service} is ${e.status}${e.error ? `: ${e.error}` : ''}`,
            });
          }
        } else if (e.type === 'run.finished') {
          resolve({
            ok: false,
            exitCode: ExitCode.failed,
            message: `run ${e.runId} ended ${e.status}${e.error ? `: ${e.error}` : ''}`,
          });
        }
        if (runId && services.length > 0 && services.every((s) => healthy.has(s))) {
          resolve({ ok: true, runId, services });
        }
      }
    });
    void child.then((r) => {
      const reason = stderr.trim().split('\n').filter(Boolean).at(-2) ?? stderr.trim();
      resolve({
        ok: false,
        exitCode: typeof r.exitCode === 'number' && r.exitCode !== 0 ? r.exitCode : ExitCode.failed,
        message:
          reason.replace(/^agent: /, '') ||
          'the background runner ended before its agents were healthy',
      });
    });
  });
  if (!outcome.ok) {
    child.kill('SIGTERM');
    throw new CliError(outcome.message, outcome.exitCode);
  }
  // Let the runner go on alone: nobody reads its output any more (it tolerates that).
  child.stdout?.destroy();
  child.stderr?.destroy();
  child.unref();
  const ids = await containerIds(outcome.runId);
  for (const name of outcome.services) io.stdout.write(`${ids.get(name) ?? name}\n`);
  io.stderr.write(
    `agent: run ${outcome.runId} serves ${outcome.services.join(', ')} in the background; \`agent stop ${outcome.services[0]}\` stops it\n`,
  );
  return ExitCode.ok;
}

/** Container ids of a run's services, by service name (none for process services). */
async function containerIds(runId: string): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  try {
    const { agentContainers } = await import('./ps-command.js');
    for (const c of await agentContainers(`${LABEL_RUN}=${runId}`)) {
      const name = c.Labels[LABEL_STEP];
      if (name) ids.set(name, c.Id);
    }
  } catch (error) {
    if (!(error instanceof EngineUnavailableError)) throw error;
  }
  return ids;
}
