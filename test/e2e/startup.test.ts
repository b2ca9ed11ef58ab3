/**
 * What `agent lint` and `agent plan` load at start: none of the run, store or
 * executor modules, none of the heavy run-time packages, and not ajv's
 * compiler (the schemas are compiled at build time). Read from a module
 * resolution hook (node:module registerHooks) that logs every resolved URL.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { agentBin, cliEnv, repoRoot } from './cli.js';

let dir: string;
let logHook: string;
let hideHook: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agentfile-startup-'));
  logHook = join(dir, 'log-modules.mjs');
  await writeFile(
    logHook,
    [
      "import { registerHooks } from 'node:module';",
      "import { appendFileSync } from 'node:fs';",
      'registerHooks({ resolve(specifier, context, next) {',
      '  const result = next(specifier, context);',
      '  appendFileSync(process.env.MODULE_LOG, `${result.url}\\n`);',
      '  return result;',
      '} });',
      '',
    ].join('\n'),
  );
  hideHook = join(dir, 'hide-generated.mjs');
  await writeFile(
    hideHook,
    [
      "import { registerHooks } from 'node:module';",
      'registerHooks({ resolve(specifier, context, next) {',
      "  if (specifier.includes('schema-validators')) {",
      "    throw Object.assign(new Error(`Cannot find module '${specifier}'`), { code: 'ERR_MODULE_NOT_FOUND' });",
      '  }',
      '  return next(specifier, context);',
      '} });',
      '',
    ].join('\n'),
  );
});

/** Runs `agent ...args` with the logging hook; the URLs it resolved, relative to the repository. */
async function loaded(
  name: string,
  args: string[],
): Promise<{ exitCode?: number; urls: string[] }> {
  const log = join(dir, `${name}.log`);
  await writeFile(log, '');
  const r = await execa('node', ['--import', logHook, agentBin, ...args], {
    cwd: repoRoot,
    env: cliEnv({ MODULE_LOG: log }),
    reject: false,
    timeout: 60_000,
  });
  const root = new URL(`file://${repoRoot}/`).href;
  const urls = [...new Set((await readFile(log, 'utf8')).split('\n').filter(Boolean))].map((u) =>
    u.startsWith(root) ? u.slice(root.length) : u,
  );
  return { exitCode: r.exitCode, urls };
}

const FORBIDDEN = [
  /^dist\/run\//,
  /^dist\/executors\//,
  /^dist\/store\//,
  /node_modules\/(better-sqlite3|dockerode|execa|listr2)\//,
  /node_modules\/ajv\/dist\/(compile|core|2020)/,
];

describe('lint and plan of a large workflow', () => {
  // A hang deadline, not a timing: a 20,000-step chain takes seconds now, and
  // took minutes when lookups in a mapping were linear in its size.
  it('lint and plan a 20,000-step chain well within a generous deadline', async () => {
    const file = join(dir, 'chain.yaml');
    await execa('node', [join(repoRoot, 'bench/gen-chain.mjs'), '20000'], {
      stdout: { file },
    });
    for (const command of ['lint', 'plan']) {
      const r = await execa('node', [agentBin, command, file], {
        cwd: repoRoot,
        env: cliEnv(),
        reject: false,
        timeout: 150_000,
      });
      expect([command, r.exitCode, r.timedOut]).toEqual([command, 0, false]);
      if (command === 'plan')
        expect(String(r.stdout)).toMatch(/20000\. step +s20000 .*needs s19999/);
    }
  }, 320_000);
});

describe('start-up of lint and plan', () => {
  it('agent lint loads no run, store or executor module, no heavy package and no ajv compiler', async () => {
    const { exitCode, urls } = await loaded('lint', [
      'lint',
      'examples/pipeline/workflow.yaml',
      'examples/hello-agent/agent.yaml',
      'examples/hello-agent/workflow.yaml',
    ]);
    expect(exitCode).toBe(0);
    // The hook saw the start-up: lint's own modules are there.
    expect(urls).toContain('dist/config/load.js');
    expect(urls).toContain('generated/schema-validators.js');
    expect(urls.filter((u) => FORBIDDEN.some((f) => f.test(u)))).toEqual([]);
  });

  it('agent plan loads none of them either', async () => {
    const { exitCode, urls } = await loaded('plan', ['plan', 'examples/pipeline/workflow.yaml']);
    expect(exitCode).toBe(0);
    expect(urls).toContain('dist/plan/compile.js');
    expect(urls.filter((u) => FORBIDDEN.some((f) => f.test(u)))).toEqual([]);
  });

  it('a command that reads the store does load the store (the check sees them)', async () => {
    const { urls } = await loaded('runs', ['runs', 'examples/pipeline/workflow.yaml']);
    expect(urls.some((u) => /^dist\/store\//.test(u))).toBe(true);
  });

  it('without the generated validators, says to run npm run build', async () => {
    const r = await execa(
      'node',
      ['--import', hideHook, agentBin, 'lint', 'examples/pipeline/workflow.yaml'],
      { cwd: repoRoot, env: cliEnv(), reject: false, timeout: 60_000 },
    );
    expect(r.exitCode).toBe(70);
    expect(String(r.stderr)).toMatch(
      /^agent: generated\/schema-validators\.js is missing; run `npm run build`/,
    );
  });
});
