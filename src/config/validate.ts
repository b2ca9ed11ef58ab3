/**
 * Validation of one document: the envelope (`kind`), the JSON Schema of its
 * kind, then the semantic rules. Every problem is collected; nothing stops at
 * the first.
 */

import { dirname } from 'node:path';
import { checkAgentDev } from './agent-dev.js';
import { describeValue } from './describe.js';
import type { Diagnostic } from './diagnostics.js';
import { describeForeign, foreignDiagnostic } from './foreign.js';
import type { SourceDocument } from './load.js';
import { checkDocument, validateSchema } from './rules/apply.js';
import type { DocumentKind } from './schema.js';
import { nearest, quoteList } from './suggest.js';

/** The kinds a document may have. */
export const DOCUMENT_KINDS: readonly DocumentKind[] = ['Agent', 'Workflow'];

/** A document after validation. */
export interface ValidatedDocument {
  doc: SourceDocument;
  /** Undefined when the document is not a mapping or has no valid `kind`. */
  kind?: DocumentKind;
  /** `metadata.name` when it is a string. */
  name?: string;
  /** `agent.dev/v1` for an agent-as-code Agent (docs/agent-as-code.md); undefined for agentfile's own format. */
  format?: 'agent.dev/v1';
  diagnostics: Diagnostic[];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Validates one parsed document (skip documents whose YAML is broken). Reports
 * `schema/type` for a document that is not a mapping, `document/foreign` for
 * another tool's document (a compose file, a GitHub workflow: `foreign.ts`),
 * `schema/required` / `schema/enum` for a missing or unknown `kind`, then everything
 * the schema rules and the document rules of `rules/` find (rules run even when
 * the schema failed, on whatever has the right shape).
 */
export function validateDocument(options: {
  doc: SourceDocument;
  file: string;
  /** Absolute path of the file: an agent.dev/v1 Agent's folder is checked for its entry file and manifest. */
  path?: string;
}): ValidatedDocument {
  const { doc, file } = options;
  const data = doc.data;
  const here = (path: string[], target: 'key' | 'value') => ({ file, ...doc.locate(path, target) });
  if (!isObject(data)) {
    return {
      doc,
      diagnostics: [
        {
          code: 'schema/type',
          severity: 'error',
          message: `a document must be a mapping with apiVersion, kind, metadata and spec, got ${describeValue(data)}`,
          ...here([], 'value'),
        },
      ],
    };
  }
  // Another tool's file (compose, Actions, Kubernetes, ...): one message naming it.
  const foreign = describeForeign(data);
  if (foreign) {
    return {
      doc,
      diagnostics: [foreignDiagnostic(foreign, { file, ...doc.locate([foreign.key], 'key') })],
    };
  }
  const name =
    isObject(data.metadata) && typeof data.metadata.name === 'string'
      ? data.metadata.name
      : undefined;
  const kind = data.kind;
  if (kind === undefined) {
    return {
      doc,
      ...(name !== undefined ? { name } : {}),
      diagnostics: [
        {
          code: 'schema/required',
          severity: 'error',
          message: `missing required key "kind" in document; expected one of ${quoteList(DOCUMENT_KINDS)}`,
          ...here([], 'value'),
        },
      ],
    };
  }
  if (kind !== 'Agent' && kind !== 'Workflow') {
    const near = typeof kind === 'string' ? nearest(kind, DOCUMENT_KINDS) : undefined;
    return {
      doc,
      ...(name !== undefined ? { name } : {}),
      diagnostics: [
        {
          code: 'schema/enum',
          severity: 'error',
          message: `"kind" must be one of ${quoteList(DOCUMENT_KINDS)}, got ${describeValue(kind)}${
            near ? `; did you mean ${JSON.stringify(near)}?` : ''
          }`,
          ...here(['kind'], 'value'),
        },
      ],
    };
  }
  const ctx = { doc, file };
  if (data.apiVersion === 'agent.dev/v1') {
    // agent-as-code's format: documents are keyed by (apiVersion, kind), and it has only Agents.
    if (kind !== 'Agent') {
      return {
        doc,
        ...(name !== undefined ? { name } : {}),
        diagnostics: [
          {
            code: 'schema/enum',
            severity: 'error',
            message: `"kind" must be "Agent" in an agent.dev/v1 document, got ${describeValue(kind)}`,
            hint: 'workflows use apiVersion agentfile/v1; their services can use an agent.dev/v1 file',
            ...here(['kind'], 'value'),
          },
        ],
      };
    }
    const diagnostics = validateSchema({ doc, file, kind, format: 'agent.dev/v1' });
    const dir = options.path === undefined ? undefined : dirname(options.path);
    diagnostics.push(...checkAgentDev(ctx, data, dir));
    return {
      doc,
      kind,
      format: 'agent.dev/v1',
      ...(name !== undefined ? { name } : {}),
      diagnostics,
    };
  }
  const diagnostics = validateSchema({ doc, file, kind });
  diagnostics.push(
    ...checkDocument({ doc, file, kind, data, ...(options.path ? { path: options.path } : {}) }),
  );
  return { doc, kind, ...(name !== undefined ? { name } : {}), diagnostics };
}
