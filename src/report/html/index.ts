/**
 * The HTML run report (`agent report --html FILE`, `agent run --report
 * FILE`): one self-contained page built from what the state store holds for
 * a run. `model.ts` builds what it shows, `render.ts` the page.
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { StoredEvent } from '../../core/events.js';
import type { StateStore } from '../../store/types.js';
import { ReportWriteError } from '../junit.js';
import type { Reporter } from '../types.js';
import { buildReportModel, readReportInput } from './model.js';
import { renderHtmlReport } from './render.js';

export {
  buildReportModel,
  DEFAULT_LOG_LIMITS,
  type LogLimits,
  type ReportInput,
  type ReportModel,
  readReportInput,
} from './model.js';
export { escapeHtml, GRAPH_MAX_NODES, renderHtmlReport } from './render.js';

/** The HTML page of run `runId` as `store` has it; undefined when there is no such run. */
export async function htmlReportOf(
  store: StateStore,
  runId: string,
  now: number = Date.now(),
): Promise<string | undefined> {
  const run = await store.getRun(runId);
  if (!run) return undefined;
  return renderHtmlReport(buildReportModel(await readReportInput(store, run, now)));
}

/**
 * Writes `html` to `file`, creating its directory.
 * @throws ReportWriteError (one line naming the file and why) when it cannot.
 */
export function writeReportFile(file: string, html: string): void {
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, html);
  } catch (error) {
    throw new ReportWriteError(
      `cannot write the HTML report to ${file}: ${(error as Error).message}`,
    );
  }
}

/**
 * `agent run --report FILE`: notes the run's id from its events and, when
 * the run's session has ended ({@link Reporter.close}), opens the store at
 * `statePath` again, builds the report of the whole run (every session) and
 * writes it. Writes nothing when no event arrived (the run never started).
 */
export class HtmlReportReporter implements Reporter {
  private runId: string | undefined;
  constructor(
    private readonly options: {
      /** Where to write the page. */
      file: string;
      /** The run's state store. */
      statePath: string;
      /** Opens the store (the CLI's `openStore`). */
      open: (statePath: string) => Promise<StateStore>;
    },
  ) {}

  onEvent(event: StoredEvent): void {
    this.runId ??= event.runId;
  }

  /** @throws ReportWriteError when the file cannot be written. */
  async close(): Promise<void> {
    if (this.runId === undefined) return;
    const store = await this.options.open(this.options.statePath);
    let html: string | undefined;
    try {
      html = await htmlReportOf(store, this.runId);
    } finally {
      await store.close();
    }
    if (html !== undefined) writeReportFile(this.options.file, html);
  }
}
