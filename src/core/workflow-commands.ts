/**
 * Escaping for GitHub Actions workflow commands (`::error file=…::message`,
 * `::group::title`), shared by `agent lint --format github` and the run's CI
 * output. Source: GitHub Docs, "Workflow commands for GitHub Actions", and
 * the runner's own escaping (actions/toolkit `command.ts`).
 */

/** A workflow command's message (or a group title) escaped as the runner expects: `%`, CR, LF. */
export function escapeGithubData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** A workflow command's property value escaped: as {@link escapeGithubData}, plus `:` and `,`. */
export function escapeGithubProperty(text: string): string {
  return escapeGithubData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}
