/**
 * GitLab CI output, used when `GITLAB_CI=true` (the runner sets it): each
 * step's lines folded in a collapsible section, through the same
 * {@link FoldingReporter} as GitHub's groups. Syntax from GitLab Docs, "CI/CD
 * job logs", custom collapsible sections:
 *
 * ```
 * \e[0Ksection_start:UNIX_TS:NAME[collapsed=true]\r\e[0KHEADER
 * …
 * \e[0Ksection_end:UNIX_TS:NAME\r\e[0K
 * ```
 *
 * `UNIX_TS` is in seconds; GitLab shows the section's duration from the two
 * timestamps, so they are the step's own start and end (from its events),
 * not the time the section is printed. A section name is made of letters,
 * digits, `_`, `.` and `-`; ours are `agent_N_ID` with the step id's other
 * characters as `_`, unique within the run. A section whose node did not end
 * well is left expanded.
 */

import type { FoldMarkers } from './grouped.js';

const ESC = '\x1b';

/** The section name of a fold key: `agent_3_build`. */
export function gitlabSectionName(key: string): string {
  return `agent_${key.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
}

const seconds = (ms: number) => Math.floor(ms / 1000);

/** `section_start` and `section_end` lines. */
export const gitlabMarkers: FoldMarkers = {
  open: (fold) =>
    `${ESC}[0Ksection_start:${seconds(fold.startedAt)}:${gitlabSectionName(fold.key)}${fold.ok ? '[collapsed=true]' : ''}\r${ESC}[0K${fold.title}`,
  close: (fold) =>
    `${ESC}[0Ksection_end:${seconds(fold.endedAt)}:${gitlabSectionName(fold.key)}\r${ESC}[0K`,
};
