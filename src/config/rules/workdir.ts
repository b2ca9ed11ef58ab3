/**
 * The check shared by `agent/workdir` and `step/workdir`: Docker does not
 * resolve a relative working directory in a container.
 */

import { describeValue } from '../describe.js';
import type { DocumentRuleContext, Path } from './rule.js';

/** Reports `workdir` (at `at`) when it is a non-empty string that does not start with `/`; `alternative` ends the hint. */
export function checkContainerWorkdir(
  ctx: DocumentRuleContext,
  workdir: unknown,
  at: Path,
  alternative: string,
): void {
  if (typeof workdir !== 'string' || workdir === '' || workdir.startsWith('/')) return;
  ctx.report({
    at,
    message: `"workdir" must be an absolute path in the container (starting with "/"), got ${describeValue(workdir)}`,
    hint: `Docker does not resolve a relative working directory; write ${JSON.stringify(`/${workdir.replace(/^(\.\/)+/, '')}`)}, ${alternative}, whose relative workdir is resolved against this file's directory`,
  });
}
