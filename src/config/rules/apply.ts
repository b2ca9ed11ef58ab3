/**
 * Runs the rules of {@link RULES}: {@link explainSchemaErrors} offers each
 * ajv error to the schema rules in order, {@link checkDocument} runs every
 * document rule. Both return diagnostics and never throw for problems in the
 * document.
 */

import type { ErrorObject } from 'ajv';
import type { Diagnostic } from '../diagnostics.js';
import type { SourceDocument } from '../load.js';
import { type DocumentFormat, type DocumentKind, schemaErrors, unitOf } from '../schema.js';
import { DOCUMENT_RULES, SCHEMA_RULES } from './index.js';
import {
  type DocumentRule,
  type DocumentRuleContext,
  findingDiagnostic,
  type SchemaErrorContext,
} from './rule.js';

/** A document to check: its source, file name and kind. */
export interface RuleTarget {
  doc: SourceDocument;
  file: string;
  kind: DocumentKind;
  format?: 'agent.dev/v1';
}

/**
 * One diagnostic per mistake from the ajv errors of one document: `if`
 * wrapper errors, `propertyNames` errors (their `pattern` error says it) and
 * the branch errors of failing "exactly one of" groups are dropped; every
 * other error goes to the first schema rule that explains it.
 */
export function explainSchemaErrors(
  errors: readonly ErrorObject[],
  target: RuleTarget,
): Diagnostic[] {
  const oneOfBranches = new Map<string, Set<unknown>>();
  const keyMaps = new Map<string, Record<string, unknown>>();
  const unknownKeyParents = new Set<string>();
  for (const e of errors) {
    if (e.keyword === 'oneOf' && Array.isArray(e.schema)) {
      const branches = oneOfBranches.get(e.instancePath) ?? new Set<unknown>();
      for (const branch of e.schema) branches.add(branch);
      oneOfBranches.set(e.instancePath, branches);
    } else if (e.keyword === 'propertyNames') {
      keyMaps.set(
        `${e.instancePath}\0${String(e.params.propertyName)}`,
        e.parentSchema as Record<string, unknown>,
      );
    } else if (e.keyword === 'additionalProperties') {
      unknownKeyParents.add(e.instancePath);
    }
  }
  const ctx: SchemaErrorContext = { ...target, unknownKeyParents, keyMaps, unitOf };
  const out: Diagnostic[] = [];
  for (const e of errors) {
    if (e.keyword === 'if' || e.keyword === 'propertyNames') continue;
    if (oneOfBranches.get(e.instancePath)?.has(e.parentSchema)) continue;
    for (const rule of SCHEMA_RULES) {
      const finding = rule.explain(e, ctx);
      if (finding === undefined) continue;
      if (finding !== null) out.push(findingDiagnostic(rule, target, finding));
      break;
    }
  }
  return out;
}

/**
 * Validates one document against the schema of its kind and format and
 * returns one diagnostic per mistake ({@link explainSchemaErrors}).
 */
export function validateSchema(target: RuleTarget): Diagnostic[] {
  const format: DocumentFormat = target.format ?? 'agentfile/v1';
  const errors = schemaErrors(target.doc.data, target.kind, format);
  return errors.length === 0 ? [] : explainSchemaErrors(errors, target);
}

/**
 * Runs document rules on one document (a mapping; rules run even when the
 * schema failed, on whatever has the right shape).
 *
 * @param rules default: {@link DOCUMENT_RULES}, the rules every command applies.
 */
export function checkDocument(
  target: RuleTarget & { path?: string; data: Record<string, unknown> },
  rules: readonly DocumentRule[] = DOCUMENT_RULES,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const rule of rules) {
    const ctx: DocumentRuleContext = {
      ...target,
      report: (finding) => out.push(findingDiagnostic(rule, target, finding)),
    };
    rule.check(ctx);
  }
  return out;
}
