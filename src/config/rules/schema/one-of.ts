import type { ErrorObject } from 'ajv';
import { quoteList } from '../../suggest.js';
import type { Finding, SchemaErrorContext, SchemaRule } from '../rule.js';
import { objectName, pathOf, schemaTitle } from './names.js';

/**
 * The message for a failing "exactly one of" group (ajv `oneOf` over
 * branches that each require one key), or null when another error says it
 * better: on a value that is not a mapping the type error says it all,
 * and a misspelt key (`runn:`) is one mistake, which the unknown-key message
 * (with its did-you-mean) reports.
 */
function exactlyOne(e: ErrorObject, ctx: SchemaErrorContext): Finding | null {
  if (typeof e.data !== 'object' || e.data === null || Array.isArray(e.data)) return null;
  if (ctx.unknownKeyParents.has(e.instancePath)) return null;
  const branches = (e.schema as Array<Record<string, unknown>>).map((b) =>
    String((b.required as string[] | undefined)?.[0]),
  );
  const data = e.data as Record<string, unknown>;
  const present = branches.filter((b) => b in data);
  const name = objectName(e, ctx);
  const choices =
    branches.length === 2
      ? `${JSON.stringify(branches[0])} or ${JSON.stringify(branches[1])}`
      : quoteList(branches);
  let message =
    present.length > 1
      ? `${name} has ${present.map((p) => JSON.stringify(p)).join(' and ')}; use exactly one of ${choices}`
      : `${name} must have one of ${choices}`;
  if (schemaTitle(e) === 'environment entry' && typeof data.name === 'string') {
    message = message.replace(name, `${name} ${JSON.stringify(data.name)}`);
  }
  return { at: pathOf(e), target: 'key', message };
}

function isStep(e: ErrorObject, ctx: SchemaErrorContext): boolean {
  return ctx.kind === 'Workflow' && schemaTitle(e) === 'step';
}

/** `step/run-or-command`: a step with both or neither of `run`, `command` (and `approval`). */
export const runOrCommand: SchemaRule = {
  id: 'step/run-or-command',
  category: 'workflow',
  docs: 'workflows-steps-and-services',
  summary: 'a step with both or neither of run and command',
  severity: 'error',
  explain(e, ctx) {
    if (e.keyword !== 'oneOf' || !isStep(e, ctx)) return undefined;
    const finding = exactlyOne(e, ctx);
    return (
      finding && {
        ...finding,
        hint: '"run" takes a script for sh -c; "command" takes an argv list run without a shell; "approval" waits for `agent approve`',
      }
    );
  },
};

/** `schema/one-of`: keys that exclude each other (`http` and `tcp`), or none of them. */
export const oneOf: SchemaRule = {
  id: 'schema/one-of',
  category: 'schema',
  docs: 'schema',
  summary: 'keys that exclude each other, or none of several',
  severity: 'error',
  explain(e, ctx) {
    if (e.keyword !== 'oneOf' || isStep(e, ctx)) return undefined;
    return exactlyOne(e, ctx);
  },
};
