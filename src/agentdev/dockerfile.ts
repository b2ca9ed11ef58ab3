/**
 * What an agent.dev/v1 agent's image is made of, as pure functions of the
 * agent and of the names of the files in its folder: the command per
 * language, the manifest generated from `dependencies` when the folder has
 * none, how an existing manifest disagrees with `dependencies`, and the
 * Dockerfile text. docs/agent-as-code.md describes the conventions.
 */

import { type Dependency, type Language, parseDependency } from './runtime.js';

/** The manifest file each language installs dependencies from, in the folder's root. */
export const MANIFESTS: Record<Language, string> = {
  python: 'requirements.txt',
  nodejs: 'package.json',
  go: 'go.mod',
  rust: 'Cargo.toml',
  java: 'pom.xml',
};

/** Where the generated Dockerfile and config file sit in the build context (never in the user's folder). */
export const GENERATED_DIR = '.agentfile-build';

/** Path of the agent's `config` in the container; `AGENT_CONFIG_FILE` names it. */
export const CONFIG_PATH = '/etc/agent/config.json';

/** Entry files tried in order, per language, when nothing else names the command. */
export const ENTRY_FILES: Record<Language, readonly string[]> = {
  python: ['main.py', 'app.py', 'agent.py'],
  nodejs: ['index.js', 'server.js', 'app.js', 'main.js'],
  go: ['main.go'],
  rust: ['src/main.rs'],
  java: ['app.jar', 'Main.java'],
};

/**
 * The command an agent's container runs, by convention:
 *
 * - python: `python FILE`, FILE the first of main.py, app.py, agent.py;
 * - nodejs: `npm start` when package.json has a `start` script, else `node FILE`,
 *   FILE the first of index.js, server.js, app.js, main.js;
 * - go: the binary `go build` made of the folder (needs main.go);
 * - rust: the binary `cargo build --release` made (needs src/main.rs);
 * - java: `java -jar app.jar`, else `java Main.java` (single-file source launch).
 *
 * @param files paths in the folder, posix, relative to it (at least the root's and src/'s).
 * @param startScript package.json's `scripts.start`, when it has one.
 * @returns the argv, or undefined when the folder has none of the entry files.
 */
export function entryCommand(
  language: Language,
  files: ReadonlySet<string>,
  startScript?: string,
): string[] | undefined {
  if (language === 'nodejs' && startScript !== undefined) return ['npm', 'start'];
  const entry = ENTRY_FILES[language].find((f) => files.has(f));
  if (entry === undefined) return undefined;
  switch (language) {
    case 'python':
      return ['python', entry];
    case 'nodejs':
      return ['node', entry];
    case 'go':
    case 'rust':
      return ['/usr/local/bin/agent'];
    case 'java':
      return entry.endsWith('.jar') ? ['java', '-jar', entry] : ['java', entry];
  }
}

/** Valid dependencies of a list as written (invalid ones are the rules' to report). */
export function dependencyList(language: Language, specs: readonly string[]): Dependency[] {
  return specs.flatMap((s) => {
    const r = parseDependency(language, s);
    return r.ok ? [r.dependency] : [];
  });
}

/**
 * The manifest generated from `dependencies` when the folder has none, or
 * undefined for java (Maven has no small generated form; java dependencies
 * are not installed, docs/agent-as-code.md).
 *
 * - python: requirements.txt, one requirement per line, as written;
 * - nodejs: package.json with name, version, `private: true` and the
 *   dependencies (`*` when no range is given);
 * - go: go.mod with the module NAME (the `go get`s in the Dockerfile add the requirements);
 * - rust: Cargo.toml with package NAME, edition 2021 and the dependencies (`*` when no version).
 */
export function generateManifest(options: {
  language: Language;
  name: string;
  version: string;
  dependencies: readonly string[];
}): string | undefined {
  const { language, name, dependencies } = options;
  const version = /^[0-9]+\.[0-9]+\.[0-9]+/.test(options.version) ? options.version : '0.0.0';
  const deps = dependencyList(language, dependencies);
  switch (language) {
    case 'python':
      return deps.length === 0 ? '' : `${dependencies.map((d) => d.trim()).join('\n')}\n`;
    case 'nodejs':
      return `${JSON.stringify(
        {
          name,
          version,
          private: true,
          dependencies: Object.fromEntries(deps.map((d) => [d.name, d.version || '*'])),
        },
        null,
        2,
      )}\n`;
    case 'go':
      return `module ${name}\n\ngo 1.22\n`;
    case 'rust':
      return [
        '[package]',
        `name = ${JSON.stringify(name)}`,
        `version = ${JSON.stringify(version)}`,
        'edition = "2021"',
        '',
        '[dependencies]',
        ...deps.map((d) => `${JSON.stringify(d.name)} = ${JSON.stringify(d.version || '*')}`),
        '',
      ].join('\n');
    case 'java':
      return undefined;
  }
}

/** One way `dependencies` and the folder's manifest disagree. */
export interface ManifestMismatch {
  /** Index in `dependencies`; undefined for a package only the manifest has. */
  index?: number;
  message: string;
}

/** Package names as pip compares them (PEP 503: case and runs of -_. do not matter). */
function pipName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/** requirements.txt's requirements by normalized name (comments, options and URLs skipped). */
function readRequirements(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (line === '' || line.startsWith('-')) continue;
    const r = parseDependency('python', line);
    if (r.ok) out.set(pipName(r.dependency.name), r.dependency.version.replace(/\s+/g, ''));
  }
  return out;
}

/**
 * How `dependencies` disagree with the folder's manifest (which is what the
 * image installs): a package the manifest lacks, a different version, and
 * (one entry) packages only the manifest has. Compared for python
 * (requirements.txt, names compared as pip does, versions as text without
 * spaces) and nodejs (package.json `dependencies`, ranges as text); other
 * languages are not compared (empty list).
 */
export function compareManifest(
  language: Language,
  dependencies: readonly string[],
  manifest: string,
): ManifestMismatch[] {
  const file = MANIFESTS[language];
  let have: Map<string, string>;
  let key: (name: string) => string = (n) => n;
  if (language === 'python') {
    have = readRequirements(manifest);
    key = pipName;
  } else if (language === 'nodejs') {
    let deps: unknown;
    try {
      deps = (JSON.parse(manifest) as { dependencies?: unknown }).dependencies;
    } catch {
      return [{ message: `${file} is not valid JSON; the image build will fail on it` }];
    }
    have = new Map(
      Object.entries(typeof deps === 'object' && deps !== null ? deps : {}).map(([k, v]) => [
        k,
        String(v),
      ]),
    );
  } else {
    return [];
  }
  const out: ManifestMismatch[] = [];
  const named = new Set<string>();
  dependencies.forEach((spec, index) => {
    const r = parseDependency(language, spec);
    if (!r.ok) return;
    const name = key(r.dependency.name);
    named.add(name);
    const version =
      language === 'python' ? r.dependency.version.replace(/\s+/g, '') : r.dependency.version;
    const found = have.get(name);
    if (found === undefined) {
      out.push({
        index,
        message: `${JSON.stringify(r.dependency.name)} is not in ${file}, which is what the image installs`,
      });
    } else if (version !== '' && found !== version) {
      out.push({
        index,
        message: `${JSON.stringify(spec)} disagrees with ${file}, which has ${JSON.stringify(found || 'any version')}; the image installs ${file}'s`,
      });
    }
  });
  const extra = [...have.keys()].filter((n) => !named.has(n));
  if (extra.length > 0 && dependencies.length > 0) {
    out.push({
      message: `${file} also installs ${extra.map((n) => JSON.stringify(n)).join(', ')}, which "dependencies" does not list`,
    });
  }
  return out;
}

/** Everything {@link generateDockerfile} needs. */
export interface DockerfileInput {
  language: Language;
  /** FROM, e.g. node:20 (see `baseImageFor`). */
  baseImage: string;
  /** Valid dependency specs as written (used for go's `go get`; other languages install the manifest). */
  dependencies: readonly string[];
  /** Whether the manifest (the folder's or the generated one) lists anything to install. */
  installs: boolean;
  /** Container ports (EXPOSE), with protocol. */
  ports: ReadonlyArray<{ container: number; protocol: 'tcp' | 'udp' }>;
  /** The CMD argv (see {@link entryCommand}). */
  command: readonly string[];
  /** Variables baked into the image (MODEL_*, AGENT_CONFIG_FILE), in order. */
  env: ReadonlyArray<{ name: string; value: string }>;
  /** Whether the folder has package-lock.json (nodejs: `npm ci` instead of `npm install`). */
  lockfile?: boolean;
}

/**
 * A value for a Dockerfile ENV line: double-quoted, with `\`, `"` and `$`
 * escaped, so the builder keeps the value as written. An ENV value cannot
 * hold a newline: one reaches the container as the two characters `\n`
 * (JSON values never have a raw newline; a model name or provider with one does).
 */
export function dockerfileQuote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\$/g, '\\$').replace(/\n/g, '\\n')}"`;
}

/**
 * The Dockerfile of an agent.dev/v1 agent. Layers go from least to most
 * often changed: the manifest and its install (cached while the manifest
 * stays the same), then the source (`COPY . .`), then the config file, the
 * baked variables, EXPOSE and CMD (exec form). Per language:
 *
 * - python: WORKDIR /app; `pip install --no-cache-dir -r requirements.txt`; PYTHONUNBUFFERED=1;
 * - nodejs: WORKDIR /app; `npm ci --omit=dev` with a lockfile, else `npm install --omit=dev`;
 * - go: `go get` each dependency, `go build -o /usr/local/bin/agent .`;
 * - rust: `cargo build --release`, the package's binary copied to /usr/local/bin/agent;
 * - java: WORKDIR /app, the source copied (dependencies are not fetched).
 *
 * The install step is left out when there is nothing to install, so a
 * build without dependencies needs no package registry.
 */
export function generateDockerfile(input: DockerfileInput): string {
  const lines = [
    '# Generated by agentfile from an agent.dev/v1 agent; `agent build --print-dockerfile` shows it.',
    `FROM ${input.baseImage}`,
  ];
  switch (input.language) {
    case 'python':
      lines.push('WORKDIR /app', 'ENV PYTHONUNBUFFERED=1');
      if (input.installs) {
        lines.push(
          'COPY requirements.txt ./',
          'RUN pip install --no-cache-dir -r requirements.txt',
        );
      }
      lines.push('COPY . .');
      break;
    case 'nodejs':
      lines.push('WORKDIR /app');
      if (input.installs) {
        lines.push(
          input.lockfile ? 'COPY package.json package-lock.json ./' : 'COPY package.json ./',
          input.lockfile ? 'RUN npm ci --omit=dev' : 'RUN npm install --omit=dev',
        );
      }
      lines.push('COPY . .');
      break;
    case 'go':
      lines.push('WORKDIR /src', 'COPY . .');
      for (const d of input.dependencies) lines.push(`RUN go get ${d.trim()}`);
      lines.push('RUN go build -o /usr/local/bin/agent .');
      break;
    case 'rust':
      lines.push(
        'WORKDIR /src',
        'COPY . .',
        'RUN cargo build --release && find target/release -maxdepth 1 -type f -perm -u+x -exec cp {} /usr/local/bin/agent \\;',
      );
      break;
    case 'java':
      lines.push('WORKDIR /app', 'COPY . .');
      break;
  }
  lines.push(`COPY ${GENERATED_DIR}/config.json ${CONFIG_PATH}`);
  for (const e of input.env) lines.push(`ENV ${e.name}=${dockerfileQuote(e.value)}`);
  for (const p of input.ports) lines.push(`EXPOSE ${p.container}/${p.protocol}`);
  lines.push(`CMD ${JSON.stringify(input.command)}`);
  return `${lines.join('\n')}\n`;
}
