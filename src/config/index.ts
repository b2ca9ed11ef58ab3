/**
 * The config stage: a file name in, a validated and normalized {@link Project}
 * (or diagnostics) out. `load` (YAML + positions) → `validate` (schema +
 * rules, for the file and every file its services `uses`) → `normalize`.
 */

import path from 'node:path';
import { type PolicyOptions, runPolicy } from '../lint/policy.js';
import { normalizeAgentDev } from './agent-dev.js';
import { type Diagnostic, hasErrors, sortDiagnostics } from './diagnostics.js';
import { checkWorkflowExpressions } from './expressions.js';
import { parseSource } from './load.js';
import type { AgentSpec, Project, SourceRef } from './model.js';
import { type NormalizeContext, normalizeAgent, normalizeWorkflow } from './normalize.js';
import { readSource, type SourceText } from './read.js';
import { suggestion } from './suggest.js';
import { type ValidatedDocument, validateDocument } from './validate.js';

export type { Diagnostic, Severity } from './diagnostics.js';
export { formatDiagnostic, hasErrors, sortDiagnostics } from './diagnostics.js';
export type * from './model.js';
export { HEALTH_CHECK_DEFAULTS, RETRY_DEFAULTS } from './normalize.js';
export { compileSchemas, type DocumentKind, schemaFile } from './schema.js';
export { formatDuration, parseCpu, parseDuration, parseMemory, parsePortString } from './units.js';

/** What {@link loadProject} returns. */
export interface LoadResult {
  /** The normalized project; undefined when any diagnostic is an error. */
  project?: Project;
  /** Every problem in the file and the files its services use, sorted and deduplicated. */
  diagnostics: Diagnostic[];
  /** File name as reported in diagnostics → its text, for snippets ({@link formatDiagnostic}). */
  sources: Map<string, string>;
}

/** One file, read and validated (its `uses:` not yet followed). */
interface LoadedFile {
  /** Absolute path. */
  path: string;
  /** Name in diagnostics. */
  file: string;
  documents: ValidatedDocument[];
}

type ReadFailure = { failure: string };

/** The shape of a `uses:` reference, as in the workflow schema. */
const USES = /^([^#]+|[^#]*#[a-z0-9]([-a-z0-9]*[a-z0-9])?)$/;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readFailure(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'does not exist';
  if (code === 'EISDIR') return 'is a directory';
  if (code === 'EACCES' || code === 'EPERM') return 'cannot be read: permission denied';
  return `cannot be read: ${err instanceof Error ? err.message : String(err)}`;
}

/** The Agent document a service refers to. */
interface ServiceTarget {
  file: LoadedFile;
  document: ValidatedDocument;
}

class ProjectLoader {
  readonly diagnostics: Diagnostic[] = [];
  readonly sources = new Map<string, string>();
  private readonly files = new Map<string, Promise<LoadedFile | ReadFailure>>();
  /** `${file path}\0${document index}\0${service name}` → the Agent it uses. */
  readonly targets = new Map<string, ServiceTarget>();

  constructor(private readonly cwd: string) {}

  /** Reads, parses and validates a file once; later calls return the same result. */
  load(abs: string, file: string): Promise<LoadedFile | ReadFailure> {
    let pending = this.files.get(abs);
    if (!pending) {
      pending = this.read(abs, file);
      this.files.set(abs, pending);
    }
    return pending;
  }

  /** Every file read so far (not those that failed to read). */
  async loadedFiles(): Promise<LoadedFile[]> {
    const all = await Promise.all(this.files.values());
    return all.filter((f): f is LoadedFile => !('failure' in f));
  }

  displayName(abs: string): string {
    return path.relative(this.cwd, abs) || path.basename(abs);
  }

  private async read(abs: string, file: string): Promise<LoadedFile | ReadFailure> {
    let source: SourceText;
    try {
      source = await readSource(abs, file);
    } catch (err) {
      return { failure: readFailure(err) };
    }
    if ('diagnostic' in source) {
      this.diagnostics.push(source.diagnostic);
      if (source.text !== undefined) this.sources.set(file, source.text);
      return { path: abs, file, documents: [] };
    }
    const text = source.text;
    this.sources.set(file, text);
    const parsed = parseSource({ file, text });
    this.diagnostics.push(...parsed.diagnostics);
    const present = parsed.documents.filter((d) => d.broken || d.data !== null);
    if (present.length === 0 && parsed.diagnostics.length === 0) {
      this.diagnostics.push({
        code: 'file/empty',
        severity: 'error',
        message: 'the file has no YAML documents',
        file,
        line: 1,
        column: 1,
        hint: 'a document starts with "apiVersion: agentfile/v1" and "kind: Agent" or "kind: Workflow"',
      });
    }
    const documents: ValidatedDocument[] = [];
    for (const doc of present) {
      if (doc.broken) {
        documents.push({ doc, diagnostics: [] });
        continue;
      }
      const validated = validateDocument({ doc, file, path: abs });
      this.diagnostics.push(...validated.diagnostics);
      documents.push(validated);
    }
    const seen = new Set<string>();
    for (const d of documents) {
      if (!d.kind || d.name === undefined) continue;
      const key = `${d.kind}\0${d.name}`;
      if (seen.has(key)) {
        this.diagnostics.push({
          code: 'document/duplicate-name',
          severity: 'error',
          message: `another ${d.kind} in this file is already named ${JSON.stringify(d.name)}; names must be unique per kind`,
          file,
          ...d.doc.locate(['metadata', 'name']),
        });
      }
      seen.add(key);
    }
    return { path: abs, file, documents };
  }

  /**
   * Follows the `uses:` of every service of every Workflow in `start` and in
   * the files they use, reporting `service/uses` problems at the `uses` value.
   */
  async resolveUses(start: LoadedFile): Promise<void> {
    const queue: LoadedFile[] = [start];
    const done = new Set<string>([start.path]);
    while (queue.length > 0) {
      const current = queue.shift() as LoadedFile;
      for (const document of current.documents) {
        if (document.kind !== 'Workflow') continue;
        const spec = isObject(document.doc.data) ? document.doc.data.spec : undefined;
        const services = isObject(spec) && isObject(spec.services) ? spec.services : {};
        for (const [name, entry] of Object.entries(services)) {
          if (!isObject(entry) || typeof entry.uses !== 'string') continue;
          // A malformed reference is the schema's to report (schema/pattern).
          if (!USES.test(entry.uses)) continue;
          const target = await this.resolveOne(current, document, name, entry.uses);
          if (target && !done.has(target.file.path)) {
            done.add(target.file.path);
            queue.push(target.file);
          }
        }
      }
    }
  }

  private async resolveOne(
    current: LoadedFile,
    document: ValidatedDocument,
    service: string,
    uses: string,
  ): Promise<ServiceTarget | undefined> {
    const hash = uses.indexOf('#');
    const filePart = hash === -1 ? uses : uses.slice(0, hash);
    const agentName = hash === -1 ? undefined : uses.slice(hash + 1);
    if (filePart === '' && agentName === undefined) return undefined;
    const report = (message: string, hint?: string) => {
      this.diagnostics.push({
        code: 'service/uses',
        severity: 'error',
        message,
        file: current.file,
        ...document.doc.locate(['spec', 'services', service, 'uses']),
        ...(hint ? { hint } : {}),
      });
    };
    const prefix = `service ${JSON.stringify(service)} uses ${JSON.stringify(uses)}`;
    let target: LoadedFile;
    if (filePart === '') {
      target = current;
    } else {
      const abs = path.resolve(path.dirname(current.path), filePart);
      const loaded = await this.load(abs, this.displayName(abs));
      if ('failure' in loaded) {
        report(
          `${prefix}, but ${this.displayName(abs)} ${loaded.failure}`,
          'paths in "uses" are relative to the directory of the file that holds them',
        );
        return undefined;
      }
      target = loaded;
    }
    const where = target === current ? 'this file' : target.file;
    const agents = target.documents.filter((d) => d.kind === 'Agent');
    const names = agents.flatMap((d) => (d.name !== undefined ? [d.name] : []));
    // A file refused whole (empty, binary, too large, ...) already has its one error.
    const refused =
      target.documents.length === 0 &&
      this.diagnostics.some((d) => d.file === target.file && d.severity === 'error');
    const incomplete = refused || target.documents.some((d) => d.kind === undefined);
    let found: ValidatedDocument | undefined;
    if (agentName !== undefined) {
      found = agents.find((d) => d.name === agentName);
      if (!found && !incomplete) {
        report(
          `${prefix}, but ${where} has no Agent named ${JSON.stringify(agentName)}${suggestion(
            agentName,
            names,
            { none: 'it has no Agent documents' },
          )}`,
        );
      }
    } else if (agents.length === 1) {
      found = agents[0];
    } else if (!incomplete) {
      if (agents.length === 0) {
        report(`${prefix}, but ${where} has no Agent document`);
      } else {
        report(
          `${prefix}, but ${where} has ${agents.length} Agent documents (${names
            .map((n) => JSON.stringify(n))
            .join(', ')}); name one with "#name"`,
          `e.g. uses: ${filePart}#${names[0] ?? 'name'}`,
        );
      }
    }
    if (!found) return undefined;
    const result = { file: target, document: found };
    this.targets.set(`${current.path}\0${document.doc.index}\0${service}`, result);
    return result;
  }
}

function contextOf(file: LoadedFile, document: ValidatedDocument): NormalizeContext {
  return { doc: document.doc, file: file.file, path: file.path };
}

function refAt(ctx: NormalizeContext, at: string[], target: 'key' | 'value'): SourceRef {
  const r = ctx.doc.locate(at, target);
  return { file: ctx.file, line: r.line, column: r.column };
}

function agentOf(
  file: LoadedFile,
  document: ValidatedDocument,
  baseImages?: Record<string, string>,
): AgentSpec {
  const ctx = contextOf(file, document);
  const data = isObject(document.doc.data) ? document.doc.data : {};
  if (document.format === 'agent.dev/v1') {
    return normalizeAgentDev(ctx, {
      name: document.name ?? '',
      data,
      source: refAt(ctx, ['metadata', 'name'], 'value'),
      ...(baseImages ? { baseImages } : {}),
    });
  }
  return normalizeAgent(ctx, {
    name: document.name ?? '',
    spec: data.spec,
    specPath: ['spec'],
    source: refAt(ctx, ['metadata', 'name'], 'value'),
  });
}

/**
 * Loads a configuration file: reads it, parses every YAML document, validates
 * each against its kind's JSON Schema and the semantic rules, follows the
 * `uses:` of every service (validating those files too), and normalizes the
 * result to the model in `model.ts`.
 *
 * Never throws for problems in the files: a missing or unreadable file is a
 * `file/not-found` diagnostic at 1:1, a file without documents `file/empty`.
 *
 * @param file the path as the user gave it (relative to `options.cwd`); it is
 *   also the `file` of its diagnostics. Files reached through `uses:` appear
 *   relative to `cwd`.
 * @param options.cwd directory relative paths are resolved against; default
 *   `process.cwd()`.
 * @param options.baseImages base images by language for agent.dev/v1 agents
 *   (`nodejs` → `node:20`), over the defaults (docs/agent-as-code.md).
 * @param options.policy run the policy rules too (`agent lint` only; not
 *   `run` or `plan`), on every document without errors of its own, with
 *   suppressions and `.agentlint.yaml` levels (src/lint/policy.ts).
 * @returns the project (only when no diagnostic is an error), every
 *   diagnostic sorted by file, line and column, and the text of every file read.
 */
export async function loadProject(
  file: string,
  options: { cwd?: string; baseImages?: Record<string, string>; policy?: PolicyOptions } = {},
): Promise<LoadResult> {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const abs = path.resolve(cwd, file);
  const loader = new ProjectLoader(cwd);
  const main = await loader.load(abs, file);
  if ('failure' in main) {
    return {
      diagnostics: [
        {
          code: 'file/not-found',
          severity: 'error',
          message: `${JSON.stringify(file)} ${main.failure}`,
          file,
          line: 1,
          column: 1,
          hint: 'give the path of an agentfile YAML file (default: agent.yaml in the current directory)',
        },
      ],
      sources: loader.sources,
    };
  }
  await loader.resolveUses(main);
  if (options.policy) {
    loader.diagnostics.push(
      ...runPolicy(await loader.loadedFiles(), options.policy, loader.sources),
    );
  }
  const diagnostics = sortDiagnostics(loader.diagnostics);
  if (hasErrors(diagnostics)) return { diagnostics, sources: loader.sources };

  const project: Project = { file, path: abs, agents: [], workflows: [] };
  // Expression and input checks read the normalized workflow (expanded matrix ids, needs).
  const late: Diagnostic[] = [];
  for (const document of main.documents) {
    if (document.kind === 'Agent') {
      project.agents.push(agentOf(main, document, options.baseImages));
    } else if (document.kind === 'Workflow') {
      const ctx = contextOf(main, document);
      const data = isObject(document.doc.data) ? document.doc.data : {};
      const workflow = normalizeWorkflow(ctx, {
        name: document.name ?? '',
        spec: data.spec,
        source: refAt(ctx, ['metadata', 'name'], 'value'),
        resolveService: (name, entry) => {
          const target = loader.targets.get(`${main.path}\0${document.doc.index}\0${name}`);
          if (target) return agentOf(target.file, target.document, options.baseImages);
          return normalizeAgent(ctx, {
            name,
            spec: entry,
            specPath: ['spec', 'services', name],
            source: refAt(ctx, ['spec', 'services', name], 'key'),
          });
        },
      });
      project.workflows.push(workflow);
      late.push(...checkWorkflowExpressions({ doc: document.doc, file: main.file }, workflow));
    }
  }
  if (late.length > 0) {
    const all = sortDiagnostics([...diagnostics, ...late]);
    if (hasErrors(all)) return { diagnostics: all, sources: loader.sources };
    return { project, diagnostics: all, sources: loader.sources };
  }
  return { project, diagnostics, sources: loader.sources };
}
