/**
 * What the policy rules share: where the containers of a document are (Agent
 * specs, inline services, container steps), their images, bind mounts and
 * environment variables, read from the raw document data defensively (a value
 * of the wrong shape is the schema's to report, so it is skipped here).
 */

import type { DocumentRuleContext, Path } from '../rule.js';

/** True for a plain mapping. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * One agent spec of a document: an Agent document's `spec`, or an inline
 * service of a Workflow (`spec.services.NAME` without `uses`).
 */
export interface AgentTarget {
  /** JSON path of the spec: `['spec']` or `['spec', 'services', NAME]`. */
  path: Path;
  spec: Record<string, unknown>;
  /** `agent "NAME"` or `service "NAME"`, for messages. */
  subject: string;
  /** True when it runs as a container: agentfile's rule (runtime docker, or image or build set) or any agent.dev/v1 agent. */
  container: boolean;
  /** `agent.dev/v1` for an agent-as-code Agent (no image, security or network fields). */
  format?: 'agent.dev/v1';
}

/** One step of a Workflow that runs in a container. */
export interface StepTarget {
  path: Path;
  step: Record<string, unknown>;
  subject: string;
}

/** Whether an agentfile/v1 agent spec runs as a container (the normalizer's rule). */
export function runsInContainer(spec: Record<string, unknown>): boolean {
  if (spec.runtime === 'docker') return true;
  if (spec.runtime === 'process') return false;
  return typeof spec.image === 'string' || isObject(spec.build);
}

/** The agent specs of a document (see {@link AgentTarget}). */
export function agentTargets(ctx: DocumentRuleContext): AgentTarget[] {
  const spec = ctx.data.spec;
  if (!isObject(spec)) return [];
  if (ctx.kind === 'Agent') {
    const meta = ctx.data.metadata;
    const name = isObject(meta) && typeof meta.name === 'string' ? meta.name : '';
    const subject = `agent ${JSON.stringify(name)}`;
    if (ctx.format === 'agent.dev/v1') {
      return [{ path: ['spec'], spec, subject, container: true, format: 'agent.dev/v1' }];
    }
    return [{ path: ['spec'], spec, subject, container: runsInContainer(spec) }];
  }
  const services = spec.services;
  if (!isObject(services)) return [];
  const out: AgentTarget[] = [];
  for (const [name, entry] of Object.entries(services)) {
    if (!isObject(entry) || 'uses' in entry) continue;
    out.push({
      path: ['spec', 'services', name],
      spec: entry,
      subject: `service ${JSON.stringify(name)}`,
      container: runsInContainer(entry),
    });
  }
  return out;
}

/** The steps of a Workflow that run in a container (their own `image`, or `defaults.image`). */
export function containerSteps(ctx: DocumentRuleContext): StepTarget[] {
  const spec = ctx.data.spec;
  if (ctx.kind !== 'Workflow' || !isObject(spec) || !isObject(spec.steps)) return [];
  const defaults = isObject(spec.defaults) ? spec.defaults : {};
  const out: StepTarget[] = [];
  for (const [id, step] of Object.entries(spec.steps)) {
    if (!isObject(step)) continue;
    const image = step.image === undefined ? defaults.image : step.image;
    if (typeof image !== 'string') continue;
    out.push({ path: ['spec', 'steps', id], step, subject: `step ${JSON.stringify(id)}` });
  }
  return out;
}

/** An image reference written in a document. */
export interface ImageUse {
  /** JSON path of the `image` value. */
  at: Path;
  image: string;
  /** `agent "api"`, `service "db"`, `step "test"` or `the workflow defaults`. */
  subject: string;
  /** The spec also has `build:`: the image is the tag of an image built from the repository. */
  built: boolean;
  /** The spec says `pull: never`: a local image, never pulled. */
  pullNever: boolean;
  /** The spec's `pull`, when it is a string. */
  pull?: string;
}

/**
 * Every image reference of a document: agent and inline service `image`s of
 * container agents, container steps' own `image`s and `defaults.image`.
 * agent.dev/v1 agents have none (their image is always built). Images with
 * a `${{ }}` expression are left out: what they name is known only at run
 * time.
 */
export function imageUses(ctx: DocumentRuleContext): ImageUse[] {
  const out = collectImageUses(ctx);
  // An image with an expression is known only when the run starts.
  return out.filter((u) => !u.image.includes('${{'));
}

function collectImageUses(ctx: DocumentRuleContext): ImageUse[] {
  const out: ImageUse[] = [];
  for (const t of agentTargets(ctx)) {
    if (t.format || !t.container || typeof t.spec.image !== 'string') continue;
    out.push({
      at: [...t.path, 'image'],
      image: t.spec.image,
      subject: t.subject,
      built: isObject(t.spec.build),
      pullNever: t.spec.pull === 'never',
      ...(typeof t.spec.pull === 'string' ? { pull: t.spec.pull } : {}),
    });
  }
  const spec = ctx.data.spec;
  if (ctx.kind !== 'Workflow' || !isObject(spec)) return out;
  if (isObject(spec.defaults) && typeof spec.defaults.image === 'string') {
    out.push({
      at: ['spec', 'defaults', 'image'],
      image: spec.defaults.image,
      subject: 'the workflow defaults',
      built: false,
      pullNever: false,
    });
  }
  for (const s of containerSteps(ctx)) {
    if (typeof s.step.image !== 'string') continue;
    out.push({
      at: [...s.path, 'image'],
      image: s.step.image,
      subject: s.subject,
      built: false,
      pullNever: false,
    });
  }
  return out;
}

/** An image reference taken apart: `[registry/]repository[:tag][@digest]`. */
export interface ImageRef {
  /** The first component when it names a registry (has a `.` or `:`, or is `localhost`). */
  registry?: string;
  /** Without registry, tag and digest, e.g. `library/node` or `node`. */
  repository: string;
  tag?: string;
  /** e.g. `sha256:…`. */
  digest?: string;
}

/** Splits an image reference the way Docker's reference grammar does. Never throws. */
export function parseImage(image: string): ImageRef {
  let rest = image;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  let registry: string | undefined;
  const slash = rest.indexOf('/');
  if (slash !== -1) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost') {
      registry = first;
      rest = rest.slice(slash + 1);
    }
  }
  return {
    ...(registry !== undefined ? { registry } : {}),
    repository: rest,
    ...(tag !== undefined ? { tag } : {}),
    ...(digest !== undefined ? { digest } : {}),
  };
}

/** One bind mount of an agent spec. */
export interface BindMount {
  /** Path of the value to point at: the short string, or the object's `source`. */
  at: Path;
  /** The host path as written. */
  source: string;
}

/** The bind mounts of an agent spec: `"SRC:TGT[:ro]"` strings and `{source, type: bind}` objects. */
export function bindMounts(t: AgentTarget): BindMount[] {
  const volumes = t.spec.volumes;
  if (!Array.isArray(volumes)) return [];
  const out: BindMount[] = [];
  volumes.forEach((v, i) => {
    const at = [...t.path, 'volumes', String(i)];
    if (typeof v === 'string') {
      const colon = v.indexOf(':');
      if (colon > 0) out.push({ at, source: v.slice(0, colon) });
    } else if (isObject(v) && (v.type === undefined || v.type === 'bind')) {
      if (typeof v.source === 'string') out.push({ at: [...at, 'source'], source: v.source });
    }
  });
  return out;
}

/** One environment variable with a name, wherever a document sets it. */
export interface EnvVar {
  name: string;
  /** Path of the entry: the `{name, …}` item of `environment`, or the key of an `env` map. */
  at: Path;
  /** Path of the literal value, when there is one. */
  valueAt?: Path;
  /** The literal value as a string (numbers and booleans as written); undefined with `from:`. */
  value?: string;
  /** `env` or `secret` for `environment` entries that read their value. */
  from?: string;
  /** `agent "api"`, `service "db"`, `step "x"` or `the workflow`. */
  owner: string;
  /** How to pass the value without writing it in the file, for messages. */
  fix: string;
}

/**
 * Every environment variable of a document: agents' and services'
 * `environment` lists and `build.args` (build arguments, for the secret
 * rules), and a Workflow's `env`, `defaults.env` and steps' `env`.
 */
export function envVars(ctx: DocumentRuleContext): EnvVar[] {
  const out: EnvVar[] = [];
  for (const t of agentTargets(ctx)) {
    const args = isObject(t.spec.build) ? t.spec.build.args : undefined;
    if (isObject(args)) {
      for (const [name, value] of Object.entries(args)) {
        if (typeof value !== 'string') continue;
        const at = [...t.path, 'build', 'args', name];
        out.push({
          name,
          at,
          value,
          valueAt: at,
          owner: `the build of ${t.subject}`,
          fix: "remove it (build arguments stay in the image's history) and pass it at run time with from: secret",
        });
      }
    }
    const list = t.spec.environment;
    if (!Array.isArray(list)) continue;
    list.forEach((e, i) => {
      if (!isObject(e) || typeof e.name !== 'string') return;
      const at = [...t.path, 'environment', String(i)];
      const literal = typeof e.value === 'string' ? e.value : undefined;
      out.push({
        name: e.name,
        at,
        ...(literal !== undefined ? { value: literal, valueAt: [...at, 'value'] } : {}),
        ...(typeof e.from === 'string' ? { from: e.from } : {}),
        owner: t.subject,
        fix: `read it from a secret ({ name: ${e.name}, from: secret })`,
      });
    });
  }
  const spec = ctx.data.spec;
  if (ctx.kind !== 'Workflow' || !isObject(spec)) return out;
  const maps: { at: Path; env: unknown; owner: string }[] = [
    { at: ['spec', 'env'], env: spec.env, owner: 'the workflow' },
    {
      at: ['spec', 'defaults', 'env'],
      env: isObject(spec.defaults) ? spec.defaults.env : undefined,
      owner: 'the workflow defaults',
    },
  ];
  if (isObject(spec.steps)) {
    for (const [id, step] of Object.entries(spec.steps)) {
      if (isObject(step)) {
        maps.push({
          at: ['spec', 'steps', id, 'env'],
          env: step.env,
          owner: `step ${JSON.stringify(id)}`,
        });
      }
    }
  }
  for (const m of maps) {
    if (!isObject(m.env)) continue;
    for (const [name, value] of Object.entries(m.env)) {
      const at = [...m.at, name];
      out.push({
        name,
        at,
        ...(typeof value === 'string' ? { value, valueAt: at } : {}),
        owner: m.owner,
        fix: `declare it in "secrets" and write \${{ secrets.${name} }}`,
      });
    }
  }
  return out;
}

const SECRET_WORDS = new Set([
  'token',
  'secret',
  'password',
  'passwd',
  'pass',
  'apikey',
  'credential',
  'credentials',
  'pat',
]);
const SECRET_PAIRS = new Set([
  'api_key',
  'access_key',
  'private_key',
  'secret_key',
  'auth_token',
  'client_secret',
  'signing_key',
]);

/**
 * True for a variable name that looks like it holds a secret: a `_`-separated
 * word TOKEN, SECRET, PASSWORD, PASSWD, PASS, APIKEY, CREDENTIAL(S) or PAT, or
 * the pairs API_KEY, ACCESS_KEY, PRIVATE_KEY, SECRET_KEY, AUTH_TOKEN,
 * CLIENT_SECRET, SIGNING_KEY (case-insensitive). `GITHUB_TOKEN`,
 * `DB_PASSWORD`, `OPENAI_API_KEY` match; `PWD`, `KEYBOARD`, `TOKENIZER` do not.
 */
export function secretLikeName(name: string): boolean {
  const words = name.toLowerCase().split('_').filter(Boolean);
  if (words.some((w) => SECRET_WORDS.has(w))) return true;
  for (let i = 0; i + 1 < words.length; i++) {
    if (SECRET_PAIRS.has(`${words[i]}_${words[i + 1]}`)) return true;
  }
  return false;
}
