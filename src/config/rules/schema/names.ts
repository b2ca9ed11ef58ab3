/**
 * How schema rules name the object an error is about: by the schema's
 * `title` ("agent spec", "health check"), or, for entries of a named map,
 * by the entry's name (`step "build"`, `service "db"`).
 */

import type { ErrorObject } from 'ajv';
import { fieldLabel } from '../../describe.js';
import { pointerSegments } from '../../load.js';
import type { SchemaErrorContext } from '../rule.js';

/** Titles of schemas whose objects are entries of a named map: messages name the entry. */
const NAMED_ENTRIES = new Set(['step', 'service']);

/** The title of the schema an error was raised in (`mapping` when it has none). */
export function schemaTitle(e: ErrorObject): string {
  return String((e.parentSchema as Record<string, unknown> | undefined)?.title ?? 'mapping');
}

/** `service "db"`, `step "build"`, or the schema's title: the object `e` is about. */
export function objectName(e: ErrorObject, ctx: SchemaErrorContext): string {
  const segments = pointerSegments(e.instancePath);
  if (
    ctx.kind === 'Workflow' &&
    segments.length === 3 &&
    segments[0] === 'spec' &&
    segments[1] === 'services'
  ) {
    return `service ${JSON.stringify(segments[2])}`;
  }
  const title = schemaTitle(e);
  if (NAMED_ENTRIES.has(title)) return `${title} ${JSON.stringify(fieldLabel(e.instancePath))}`;
  return title;
}

/** The quoted field name of the value an error is about: `"timeout"`, `"ports[1]"`. */
export function label(e: ErrorObject): string {
  return JSON.stringify(fieldLabel(e.instancePath));
}

/** The error's instance path as JSON path segments. */
export function pathOf(e: ErrorObject): string[] {
  return pointerSegments(e.instancePath);
}
