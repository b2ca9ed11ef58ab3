/**
 * The languages of agent-as-code's `spec.runtime` (apiVersion agent.dev/v1),
 * their default base images, and the syntax each one's `dependencies` use.
 * Pure functions; docs/agent-as-code.md describes the conventions.
 */

/** The languages `spec.runtime` names, as agent-as-code spells them. */
export const LANGUAGES = ['python', 'nodejs', 'go', 'rust', 'java'] as const;

/** One of {@link LANGUAGES}. */
export type Language = (typeof LANGUAGES)[number];

/** A parsed `spec.runtime`: `python:3.11` → `{ language: 'python', version: '3.11' }`. */
export interface Runtime {
  language: Language;
  /** The version after the colon, when given; it becomes the base image's tag. */
  version?: string;
}

/**
 * Default base image per language: the official Docker Hub language images,
 * `{version}` replaced by the runtime's version or the default version
 * beside it. Override per language with `--base-image LANG=IMAGE` or
 * `AGENTFILE_BASE_IMAGES` (see {@link parseBaseImages}).
 */
export const BASE_IMAGES: Record<Language, { image: string; version: string }> = {
  python: { image: 'python:{version}-slim', version: '3.11' },
  nodejs: { image: 'node:{version}', version: '20' },
  go: { image: 'golang:{version}', version: '1.22' },
  rust: { image: 'rust:{version}', version: '1' },
  java: { image: 'eclipse-temurin:{version}-jdk', version: '21' },
};

/** Docker's tag syntax, for the version part of `runtime`. */
const VERSION = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/**
 * Parses `spec.runtime` (`nodejs`, `python:3.11`); undefined when the
 * language is not one of {@link LANGUAGES} or the version is not a valid
 * image tag.
 */
export function parseRuntime(text: string): Runtime | undefined {
  const colon = text.indexOf(':');
  const language = (colon === -1 ? text : text.slice(0, colon)) as Language;
  if (!LANGUAGES.includes(language)) return undefined;
  if (colon === -1) return { language };
  const version = text.slice(colon + 1);
  return VERSION.test(version) ? { language, version } : undefined;
}

/**
 * The base image of a runtime: the override for its language when one is
 * given, else {@link BASE_IMAGES} with the runtime's version (or the default).
 */
export function baseImageFor(runtime: Runtime, overrides: Record<string, string> = {}): string {
  const override = overrides[runtime.language];
  if (override !== undefined) return override;
  const base = BASE_IMAGES[runtime.language];
  return base.image.replace('{version}', runtime.version ?? base.version);
}

/**
 * Parses base image overrides, `LANG=IMAGE` each (from `--base-image`, or
 * `AGENTFILE_BASE_IMAGES` split on commas and whitespace). Later entries win.
 *
 * @throws Error naming the bad entry: no `=`, an unknown language, or an empty image.
 */
export function parseBaseImages(entries: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    const language = eq === -1 ? '' : entry.slice(0, eq).trim();
    const image = eq === -1 ? '' : entry.slice(eq + 1).trim();
    if (eq === -1 || image === '') {
      throw new Error(
        `invalid base image ${JSON.stringify(entry)}; expected LANG=IMAGE, e.g. nodejs=node:20`,
      );
    }
    if (!LANGUAGES.includes(language as Language)) {
      throw new Error(
        `invalid base image ${JSON.stringify(entry)}: unknown language ${JSON.stringify(language)}; expected one of ${LANGUAGES.join(', ')}`,
      );
    }
    out[language] = image;
  }
  return out;
}

/** A dependency split into its package name and version constraint (as written; empty: any). */
export interface Dependency {
  name: string;
  /** `==0.104.0`, `>=1,<2` (python); `^4.18.0` (nodejs); `v1.9.1` (go); `1.0` (rust); `2.15.2` (java). */
  version: string;
}

const PY_NAME = '[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?';
const PY_OP = '(?:===|==|!=|~=|<=|>=|<|>)\\s*[A-Za-z0-9.*+!_-]+';
/** A pip requirement without URLs: NAME[extras] (OP VERSION, ...)? (; marker)? — PEP 508, simplified. */
const PY_REQUIREMENT = new RegExp(
  `^(${PY_NAME})\\s*(\\[[A-Za-z0-9._,\\s-]*\\])?\\s*(${PY_OP}(?:\\s*,\\s*${PY_OP})*)?\\s*(;.*)?$`,
);
/** An npm package name (lower case, optionally @scope/), then optionally @RANGE. */
const NPM_SPEC = /^((?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*)(?:@(.+))?$/;
/** What an npm range may hold: versions, operators, x/*, ||, hyphen ranges and dist-tags. */
const NPM_RANGE = /^[A-Za-z0-9.*^~<>=|\s+-]+$/;
const GO_SPEC = /^([a-z0-9.-]+\.[a-z]+(?:\/[A-Za-z0-9._~-]+)+)(?:@(v[0-9A-Za-z.+-]+|latest))?$/;
const RUST_SPEC = /^([A-Za-z][A-Za-z0-9_-]*)(?:@([0-9A-Za-z.^~<>=*,\s+-]+))?$/;
const JAVA_SPEC = /^([A-Za-z0-9_.-]+):([A-Za-z0-9_.-]+):([A-Za-z0-9_.+-]+)$/;

/** The result of {@link parseDependency}: the parts, or what is wrong and how to write it. */
export type DependencyResult =
  | { ok: true; dependency: Dependency }
  | { ok: false; expected: string; hint?: string };

/**
 * Checks one entry of `spec.dependencies` in its language's syntax. The
 * checks are deliberately simple (a typo catcher, not a resolver):
 *
 * - python: a pip requirement without URLs, `NAME[extras] OP VERSION, ... ; marker`
 *   with OP one of `== != ~= <= >= < > ===` (PEP 508's specifier list);
 * - nodejs: `NAME` or `NAME@RANGE`, NAME lower case with an optional `@scope/`;
 * - go: `MODULE` or `MODULE@vVERSION` (a module path with a dot in its first element);
 * - rust: `CRATE` or `CRATE@VERSION` (cargo add's syntax);
 * - java: `GROUP:ARTIFACT:VERSION` (Maven coordinates).
 *
 * A spec in another language's syntax (`express==4.18.0` for nodejs,
 * `fastapi@0.104.0` or `fastapi=0.104.0` for python) gets a hint with the right form.
 */
export function parseDependency(language: Language, spec: string): DependencyResult {
  const text = spec.trim();
  switch (language) {
    case 'python': {
      const m = PY_REQUIREMENT.exec(text);
      if (m) {
        const name = m[1] ?? '';
        return { ok: true, dependency: { name, version: text.slice(name.length).trim() } };
      }
      const expected =
        'a pip requirement like fastapi==0.104.0, requests>=2.31,<3 or uvicorn[standard]';
      const wrong = /^([A-Za-z0-9._-]+)\s*(?:@|=(?!=)|:)\s*([0-9][^\s]*)$/.exec(text);
      if (wrong)
        return {
          ok: false,
          expected,
          hint: `pip pins a version with ==, e.g. ${wrong[1]}==${wrong[2]}`,
        };
      return { ok: false, expected };
    }
    case 'nodejs': {
      const m = NPM_SPEC.exec(text);
      if (m && (m[2] === undefined || NPM_RANGE.test(m[2]))) {
        return { ok: true, dependency: { name: m[1] ?? '', version: m[2] ?? '' } };
      }
      const expected =
        'NAME or NAME@RANGE, e.g. express@^4.18.0 (npm package names are lower case)';
      const wrong = /^(@?[A-Za-z0-9._/-]+?)\s*(?:==|=|:)\s*(.+)$/.exec(text);
      if (wrong)
        return {
          ok: false,
          expected,
          hint: `npm writes a version after @, e.g. ${wrong[1]?.toLowerCase()}@${wrong[2]}`,
        };
      if (m === null && /[A-Z]/.test(text))
        return {
          ok: false,
          expected,
          hint: `npm package names are lower case: ${text.toLowerCase()}`,
        };
      return { ok: false, expected };
    }
    case 'go': {
      const m = GO_SPEC.exec(text);
      if (m) return { ok: true, dependency: { name: m[1] ?? '', version: m[2] ?? '' } };
      return {
        ok: false,
        expected: 'a module path, optionally @vVERSION, e.g. github.com/gin-gonic/gin@v1.9.1',
      };
    }
    case 'rust': {
      const m = RUST_SPEC.exec(text);
      if (m) return { ok: true, dependency: { name: m[1] ?? '', version: (m[2] ?? '').trim() } };
      return { ok: false, expected: 'CRATE or CRATE@VERSION, e.g. serde@1.0' };
    }
    case 'java': {
      const m = JAVA_SPEC.exec(text);
      if (m) return { ok: true, dependency: { name: `${m[1]}:${m[2]}`, version: m[3] ?? '' } };
      return {
        ok: false,
        expected: 'Maven coordinates GROUP:ARTIFACT:VERSION, e.g. com.google.code.gson:gson:2.10.1',
      };
    }
  }
}
