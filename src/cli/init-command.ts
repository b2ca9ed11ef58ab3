/**
 * `agent init [TEMPLATE]`: writes a runnable agent into a directory: an
 * `agent.yaml` (an Agent built from `./agent`, health-checked over HTTP) and
 * a minimal HTTP server with `/health`, in Node (the default) or Python.
 * Nothing is overwritten unless `--force` is given.
 */

import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { CliError, type CliIo, ExitCode } from './common.js';

/** Options of `agent init`, as commander parses them. */
export interface InitOptions {
  /** Directory to write into; default the current directory. */
  dir?: string;
  /** The agent's name (`metadata.name`); default `my-agent`. */
  name?: string;
  /** Overwrite existing files. */
  force?: boolean;
}

/** A template: its files, by path relative to the target directory. */
type Template = (name: string) => Record<string, string>;

const agentYaml = (
  name: string,
  description: string,
  command: string,
) => `# ${name}: an HTTP agent, built from ./agent and health-checked over HTTP.
# Lint it:  agent lint agent.yaml
# Run it:   agent run agent.yaml    (Ctrl-C stops it and removes its container)
apiVersion: agentfile/v1
kind: Agent
metadata:
  name: ${name}
  version: 0.1.0
  description: ${description}
spec:
  build:
    context: ./agent
  command: ${command}
  ports: ["8080"]
  environment:
    - { name: PORT, value: 8080 }
  healthCheck:
    http: { path: /health, port: 8080 }
    interval: 1s
    timeout: 2s
    retries: 3
    startPeriod: 10s
  resources:
    limits: { cpu: "0.5", memory: 256Mi }
  # Not root, and nothing written outside volumes (agent lint's policy rules).
  security: { runAsUser: 1000, readOnlyRootFilesystem: true }
`;

/** The templates `agent init` knows, by name. */
export const TEMPLATES: Record<string, Template> = {
  node: (name) => ({
    'agent.yaml': agentYaml(name, 'A minimal Node.js HTTP agent.', '["node", "server.js"]'),
    'agent/Dockerfile': `ARG BASE_IMAGE=node:20
FROM \${BASE_IMAGE}
WORKDIR /app
COPY server.js ./
EXPOSE 8080
CMD ["node", "server.js"]
`,
    'agent/server.js': `// A minimal HTTP agent. GET /health -> 200 {"status":"ok"}; GET / -> a greeting.
import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? 8080);
const server = createServer((req, res) => {
  const body = req.url === '/health' ? { status: 'ok' } : { message: 'hello from ${name}' };
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(\`\${JSON.stringify(body)}\\n\`);
});
server.listen(port, () => console.log(\`${name} listening on :\${port}\`));
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
`,
    'agent/package.json': `${JSON.stringify({ name, version: '0.1.0', private: true, type: 'module' }, null, 2)}\n`,
  }),
  python: (name) => ({
    'agent.yaml': agentYaml(name, 'A minimal Python HTTP agent.', '["python", "app.py"]'),
    'agent/Dockerfile': `ARG BASE_IMAGE=python:3.12-slim
FROM \${BASE_IMAGE}
WORKDIR /app
COPY app.py ./
EXPOSE 8080
CMD ["python", "app.py"]
`,
    'agent/app.py': `"""A minimal HTTP agent. GET /health -> 200 {"status":"ok"}; GET / -> a greeting."""
import json
import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = {"status": "ok"} if self.path == "/health" else {"message": "hello from ${name}"}
        data = (json.dumps(body) + "\\n").encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


port = int(os.environ.get("PORT", "8080"))
server = HTTPServer(("0.0.0.0", port), Handler)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
print(f"${name} listening on :{port}", flush=True)
server.serve_forever()
`,
  }),
};

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * Runs `agent init`; resolves with the exit code.
 * @throws CliError (exit 2) for an unknown template, a bad name, or files
 *   that exist (without `--force`).
 */
export async function initCommand(
  template: string | undefined,
  opts: InitOptions,
  io: CliIo,
): Promise<number> {
  const chosen = template ?? 'node';
  const make = TEMPLATES[chosen];
  if (!make) {
    throw new CliError(
      `unknown template "${chosen}"; expected one of ${Object.keys(TEMPLATES).join(', ')}`,
      ExitCode.invalid,
    );
  }
  const name = opts.name ?? 'my-agent';
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name)) {
    throw new CliError(
      `agent name "${name}" is not a valid name`,
      ExitCode.invalid,
      'lower-case letters, digits and dashes, starting and ending with a letter or digit',
    );
  }
  const dir = resolve(io.cwd, opts.dir ?? '.');
  const files = make(name);
  if (!opts.force) {
    const taken: string[] = [];
    for (const f of Object.keys(files)) if (await exists(join(dir, f))) taken.push(f);
    if (taken.length > 0) {
      throw new CliError(
        `${taken.join(', ')} already exist${taken.length === 1 ? 's' : ''} in ${relative(io.cwd, dir) || '.'}; nothing was written`,
        ExitCode.invalid,
        'choose another --dir, or overwrite with --force',
      );
    }
  }
  for (const [f, text] of Object.entries(files)) {
    const path = join(dir, f);
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, text);
    io.stdout.write(`wrote ${relative(io.cwd, path)}\n`);
  }
  const where = relative(io.cwd, join(dir, 'agent.yaml'));
  io.stdout.write(`next: agent lint ${where} && agent run ${where}\n`);
  return ExitCode.ok;
}
