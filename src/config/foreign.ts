/**
 * Recognizes YAML documents of other tools (docker compose, GitHub Actions,
 * Kubernetes, Argo Workflows, go-task) by their tell-tale top-level keys, so
 * that linting one gives a single `document/foreign` message naming what it
 * looks like, instead of a schema error for every key.
 */

/** What a foreign document looks like, and how to write its agentfile equivalent. */
export interface ForeignDocument {
  /** What the document looks like, as in "this looks like a docker compose file". */
  what: string;
  /** The top-level key (or `apiVersion`) that gave it away: the diagnostic points at it. */
  key: string;
  /** How to write the agentfile equivalent. */
  hint: string;
}

import type { Diagnostic } from './diagnostics.js';

const DOCS = 'see docs/file-format.md';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** True when every value of a mapping is a mapping (as compose services, Actions jobs, go-task tasks are). */
function mapOfMaps(value: unknown): boolean {
  return isObject(value) && Object.values(value).every((v) => isObject(v) || v === null);
}

/**
 * What a document that is not an agentfile document looks like, or
 * undefined when it looks like none of the tools known here (or like an
 * agentfile document, with `apiVersion` `agentfile/v1` or `agent.dev/v1`).
 * Pure; reads only the top level of `data`.
 *
 * Tell-tales, checked in this order:
 * - Argo Workflows: `apiVersion` in the `argoproj.io` group;
 * - Kubernetes: an `apiVersion` of the form `v1` or `GROUP/VERSION` (not
 *   agentfile's own groups) with a `kind` other than `Agent` or `Workflow`
 *   (and no `spec.steps` or `spec.services`, which agentfile's have): a
 *   mistyped agentfile envelope gets the schema's messages instead;
 * - GitHub Actions: `on` and a `jobs` mapping;
 * - go-task: `version` and a `tasks` mapping;
 * - docker compose: a `services` mapping of mappings and no `kind`.
 */
export function describeForeign(data: unknown): ForeignDocument | undefined {
  if (!isObject(data)) return undefined;
  const apiVersion = data.apiVersion;
  if (apiVersion === 'agentfile/v1' || apiVersion === 'agent.dev/v1') return undefined;
  if (typeof apiVersion === 'string' && /^argoproj\.io\//.test(apiVersion)) {
    return {
      what: 'an Argo Workflows document',
      key: 'apiVersion',
      hint: `write apiVersion: agentfile/v1 and kind: Workflow; each template becomes a step under spec.steps (with "image" and "run"), and "dependencies" become "needs"; ${DOCS}`,
    };
  }
  const spec = isObject(data.spec) ? data.spec : undefined;
  if (
    typeof apiVersion === 'string' &&
    /^(v[0-9]+([a-z]+[0-9]+)?|[a-z0-9.-]+\/v[0-9]+([a-z]+[0-9]+)?)$/.test(apiVersion) &&
    !/^(agentfile|agent\.dev)\//.test(apiVersion) &&
    typeof data.kind === 'string' &&
    data.kind !== 'Agent' &&
    data.kind !== 'Workflow' &&
    spec?.steps === undefined &&
    spec?.services === undefined
  ) {
    return {
      what: `a Kubernetes ${data.kind} manifest`,
      key: 'apiVersion',
      hint: `agentfile runs containers itself: write apiVersion: agentfile/v1 and kind: Agent, with the container's image, ports and env under spec; ${DOCS}`,
    };
  }
  if (data.apiVersion === undefined && data.kind === undefined) {
    if ('on' in data && mapOfMaps(data.jobs)) {
      return {
        what: 'a GitHub Actions workflow',
        key: 'jobs',
        hint: `write apiVersion: agentfile/v1 and kind: Workflow; jobs and their steps become steps under spec.steps (with "run" and "needs"), and expressions keep the \${{ }} syntax; ${DOCS}`,
      };
    }
    if ('version' in data && mapOfMaps(data.tasks)) {
      return {
        what: 'a go-task Taskfile',
        key: 'tasks',
        hint: `write apiVersion: agentfile/v1 and kind: Workflow; each task becomes a step under spec.steps, its "cmds" the step's "run" and its "deps" the step's "needs"; ${DOCS}`,
      };
    }
    if (mapOfMaps(data.services) && Object.keys(data.services as object).length > 0) {
      return {
        what: 'a docker compose file',
        key: 'services',
        hint: `write apiVersion: agentfile/v1, kind: Workflow and metadata.name, and move the services under spec.services (image, ports, environment, healthcheck as "health"), then add the steps that use them under spec.steps; ${DOCS}`,
      };
    }
  }
  return undefined;
}

/**
 * The `document/foreign` diagnostic for a document {@link describeForeign}
 * recognized: `this looks like a docker compose file, not an agentfile
 * document`, with the hint, at `where` (the tell-tale key).
 */
export function foreignDiagnostic(
  found: ForeignDocument,
  where: Pick<Diagnostic, 'file' | 'line' | 'column' | 'endLine' | 'endColumn'>,
): Diagnostic {
  return {
    code: 'document/foreign',
    severity: 'error',
    message: `this looks like ${found.what}, not an agentfile document`,
    ...where,
    hint: found.hint,
  };
}
