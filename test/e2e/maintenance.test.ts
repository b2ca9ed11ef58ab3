/**
 * Store maintenance with the built binary against real stores, real
 * processes and the real Docker engine: `agent prune`, `agent doctor
 * [--fix]` after a runner killed with kill -9, `agent backup` while a run
 * writes to the store. Steps that must block wait for a file the test
 * creates.
 */

import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { describeDocker } from '../helpers/docker.js';
import { processAlive, waitFor } from '../helpers/processes.js';
import { agent, collectStdout, readState, spawnAgent, tempDir } from './cli.js';

const header = (name: string) =>
  `apiVersion: agentfile/v1\nkind: Workflow\nmetadata: { name: ${name} }\n`;

const waitForFile = (file: string) => `while [ ! -f '${file}' ]; do sleep 0.05; done`;

const DAY_MS = 86_400_000;
const require = createRequire(import.meta.url);

/** Runs created by a test's kill -9, whose leftovers are removed at the end whatever happens. */
const runsToClean: string[] = [];
const groupsToKill: number[] = [];
afterAll(async () => {
  for (const pgid of groupsToKill) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // Gone.
    }
  }
  for (const id of runsToClean) {
    const label = `label=agentfile.run=${id}`;
    const ids = (await execa('docker', ['ps', '-aq', '--filter', label], { reject: false })).stdout;
    if (ids) await execa('docker', ['rm', '-f', ...ids.split('\n')], { reject: false });
    const nets = (
      await execa('docker', ['network', 'ls', '-q', '--filter', label], { reject: false })
    ).stdout;
    if (nets) await execa('docker', ['network', 'rm', ...nets.split('\n')], { reject: false });
  }
});

/** Changes rows of the store in `dir` (the test's stand-in for time passing). */
function writeState(dir: string, fn: (db: Database.Database) => void): void {
  const db = new Database(join(dir, '.agentfile/state.db'), { timeout: 10_000 });
  try {
    fn(db);
  } finally {
    db.close();
  }
}

const runIds = (dir: string) =>
  readState(dir, (db) =>
    (db.prepare('SELECT id FROM runs ORDER BY created_at').all() as { id: string }[]).map(
      (r) => r.id,
    ),
  );

/** Starts `agent run` in `dir` and resolves once `marker` is in its output, with its run id. */
async function startRun(dir: string, args: string[], marker: string) {
  const child = spawnAgent(['run', ...args], { cwd: dir });
  const out = collectStdout(child);
  await waitFor(() => out().includes(marker), { timeoutMs: 60_000 });
  const runId = /run (\S+): starting/.exec(out())?.[1];
  if (!runId) throw new Error(`no run id in: ${out()}`);
  return { child, runId };
}

describe('store maintenance without a store', () => {
  it('prune, doctor and backup exit 2 and create nothing', async () => {
    const dir = await tempDir();
    for (const args of [['prune', '--older-than', '30d'], ['doctor'], ['backup', 'b.db']]) {
      const r = await agent(args, { cwd: dir });
      expect(r.exitCode, args.join(' ')).toBe(2);
      expect(r.stderr).toContain('agent: no state store at .agentfile/state.db');
    }
    expect(existsSync(join(dir, '.agentfile'))).toBe(false);
    expect(existsSync(join(dir, 'b.db'))).toBe(false);
  });
});

describe('agent prune', () => {
  it('deletes old runs with their events, attempts and logs, never a running one; --dry-run deletes nothing', async () => {
    const dir = await tempDir();
    const go = join(dir, 'go');
    await writeFile(
      join(dir, 'agent.yaml'),
      `${header('quick')}spec:
  steps:
    a:
      run: echo "hello from a"
---
${header('hang')}spec:
  steps:
    a:
      run: ${waitForFile(go)}
`,
    );
    for (let i = 0; i < 3; i++) {
      expect((await agent(['run', '-w', 'quick'], { cwd: dir })).exitCode).toBe(0);
    }
    const [old1, old2, young] = runIds(dir);
    const { child, runId: running } = await startRun(dir, ['-w', 'hang'], 'step a: started');
    // Forty days pass for all but `young`.
    writeState(dir, (db) => {
      const age = db.prepare('UPDATE runs SET created_at = created_at - ? WHERE id = ?');
      for (const id of [old1, old2, running]) age.run(40 * DAY_MS, id);
    });
    const logDir = (id: string | undefined) => join(dir, '.agentfile/runs', String(id));
    expect(existsSync(logDir(old1))).toBe(true);

    const dry = await agent(['prune', '--older-than', '30d', '--dry-run'], { cwd: dir });
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/^would prune 2 runs created before \d{4}-\d\d-\d\d /);
    expect(dry.stdout).toMatch(new RegExp(`^  ${old1} +quick +succeeded `, 'm'));
    expect(dry.stdout).toMatch(new RegExp(`^  ${old2} +quick +succeeded `, 'm'));
    expect(dry.stdout).not.toContain(String(young));
    expect(dry.stdout).toContain(`kept run ${running}: its runner is alive`);
    expect(runIds(dir)).toHaveLength(4);
    expect(existsSync(logDir(old1))).toBe(true);

    const pruned = await agent(['prune', '--older-than', '30d'], { cwd: dir });
    expect(pruned.exitCode, pruned.stderr).toBe(0);
    expect(pruned.stdout).toMatch(/removed 2 runs, \d+ events and 2 log directories/);
    expect(pruned.stdout).toContain('store compacted (VACUUM, ANALYZE)');
    expect(runIds(dir).sort()).toEqual([young, running].sort());
    const left = readState(dir, (db) => ({
      events: db
        .prepare('SELECT COUNT(*) AS n FROM events WHERE run_id IN (?, ?)')
        .get(old1, old2) as { n: number },
      attempts: db
        .prepare('SELECT COUNT(*) AS n FROM attempts WHERE run_id IN (?, ?)')
        .get(old1, old2) as { n: number },
      steps: db
        .prepare('SELECT COUNT(*) AS n FROM steps WHERE run_id IN (?, ?)')
        .get(old1, old2) as {
        n: number;
      },
    }));
    expect(left).toEqual({ events: { n: 0 }, attempts: { n: 0 }, steps: { n: 0 } });
    expect(existsSync(logDir(old1))).toBe(false);
    expect(existsSync(logDir(old2))).toBe(false);
    expect(existsSync(logDir(young))).toBe(true);
    // The young run is untouched and still readable.
    const logs = await agent(['logs', String(young), 'a'], { cwd: dir });
    expect(logs.stdout).toBe('hello from a');

    const nothing = await agent(['prune', '--older-than', '30d'], { cwd: dir });
    expect(nothing.stdout).toContain('nothing to prune: no run created before');

    await writeFile(go, '');
    expect((await child).exitCode).toBe(0);
  });

  it('refuses an age that is not one', async () => {
    const dir = await tempDir();
    await writeFile(
      join(dir, 'agent.yaml'),
      `${header('one')}spec:\n  steps:\n    a:\n      run: 'true'\n`,
    );
    expect((await agent(['run'], { cwd: dir })).exitCode).toBe(0);
    const r = await agent(['prune', '--older-than', '30'], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('--older-than must be an age like 30d, 2w, 12h or 1d12h, got "30"');
    expect(runIds(dir)).toHaveLength(1);
  });
});

describe('agent doctor', () => {
  it('is healthy after a normal run; an unreachable Docker engine is noted, not a failure', async () => {
    const dir = await tempDir();
    await writeFile(
      join(dir, 'agent.yaml'),
      `${header('one')}spec:\n  steps:\n    a:\n      run: 'true'\n`,
    );
    expect((await agent(['run'], { cwd: dir })).exitCode).toBe(0);
    const r = await agent(['doctor'], {
      cwd: dir,
      env: { DOCKER_HOST: `unix://${join(dir, 'no-docker.sock')}` },
    });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('integrity: ok');
    expect(r.stdout).toContain('leases: ok');
    expect(r.stdout).toMatch(/^docker: not checked \(note: cannot reach the Docker engine/m);
    expect(r.stdout).toContain('processes: ok');
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('healthy: no problems found');
  });

  it('after kill -9: finds the stale lease, the interrupted run and its process; --fix removes them', async () => {
    const dir = await tempDir();
    const go = join(dir, 'go');
    await writeFile(
      join(dir, 'agent.yaml'),
      `${header('hang')}spec:\n  steps:\n    a:\n      run: ${waitForFile(go)}\n`,
    );
    const { child, runId } = await startRun(dir, [], 'step a: started');
    const pgid = await (async () => {
      let pid = 0;
      await waitFor(() => {
        const row = readState(dir, (db) =>
          db.prepare('SELECT pid FROM attempts WHERE run_id = ?').get(runId),
        ) as { pid: number | null } | undefined;
        pid = row?.pid ?? 0;
        return pid > 0;
      });
      return pid;
    })();
    groupsToKill.push(pgid);
    child.kill('SIGKILL');
    await child;
    expect(processAlive(pgid)).toBe(true); // the step outlived its runner

    const found = await agent(['doctor', '--state', '.agentfile/state.db'], { cwd: dir });
    expect(found.exitCode, found.stdout + found.stderr).toBe(1);
    expect(found.stdout).toContain('leases: PROBLEM: 1 stale lease (the holder is gone)');
    expect(found.stdout).toMatch(new RegExp(`run ${runId}, pid \\d+ on \\S+, its process is gone`));
    expect(found.stdout).toContain(`interrupted runs: 1 (note:`);
    expect(found.stdout).toContain(`  ${runId} (hang, created `);
    expect(found.stdout).toMatch(
      /^processes: PROBLEM: \d+ process(es)? left by runs that are not running/m,
    );
    expect(found.stdout).toMatch(new RegExp(`^  ${runId}: pid ${pgid} `, 'm'));
    expect(found.stdout).toMatch(/problems? found; `agent doctor --fix` removes/);
    expect(processAlive(pgid)).toBe(true); // without --fix nothing is touched

    const fixed = await agent(['doctor', '--fix'], { cwd: dir });
    expect(fixed.exitCode, fixed.stdout + fixed.stderr).toBe(0);
    expect(fixed.stdout).toMatch(new RegExp(`^  ${runId}: pid ${pgid} .* \\(killed\\)$`, 'm'));
    expect(fixed.stdout).toMatch(/its process is gone \(removed\)$/m);
    expect(fixed.stdout).toMatch(/^fixed \d+ problems$/m);
    await waitFor(() => !processAlive(pgid), { timeoutMs: 10_000 });
    const leases = readState(dir, (db) => db.prepare('SELECT COUNT(*) AS n FROM leases').get()) as {
      n: number;
    };
    expect(leases.n).toBe(0);

    const again = await agent(['doctor'], { cwd: dir });
    expect(again.exitCode, again.stdout).toBe(0);
    expect(again.stdout).toContain('interrupted runs: 1'); // a note: --resume still continues it
    expect(again.stdout.trimEnd().split('\n').at(-1)).toBe('healthy: no problems found');
  });
});

describeDocker('agent doctor and Docker', () => {
  it("finds a killed run's container and network by label; --fix removes them", async () => {
    const dir = await tempDir();
    await writeFile(
      join(dir, 'agent.yaml'),
      `${header('boxed')}spec:
  steps:
    box:
      image: busybox:1.36
      run: sleep 300
`,
    );
    const { child, runId } = await startRun(dir, [], 'step box: started');
    runsToClean.push(runId);
    const label = `label=agentfile.run=${runId}`;
    const containers = async () =>
      (await execa('docker', ['ps', '-aq', '--filter', label])).stdout.split('\n').filter(Boolean);
    const networks = async () =>
      (await execa('docker', ['network', 'ls', '-q', '--filter', label])).stdout
        .split('\n')
        .filter(Boolean);
    await waitFor(async () => (await containers()).length > 0, { timeoutMs: 60_000 });
    child.kill('SIGKILL');
    await child;
    expect(await networks()).toHaveLength(1);

    const found = await agent(['doctor'], { cwd: dir });
    expect(found.exitCode, found.stdout + found.stderr).toBe(1);
    expect(found.stdout).toContain(
      'docker: PROBLEM: 1 container and 1 network left by 1 run that is not running',
    );
    expect(found.stdout).toMatch(
      new RegExp(`^  ${runId}: container \\S+, network agentfile-${runId}$`, 'm'),
    );
    expect(await containers()).toHaveLength(1);

    const fixed = await agent(['doctor', '--fix'], { cwd: dir });
    expect(fixed.exitCode, fixed.stdout + fixed.stderr).toBe(0);
    expect(fixed.stdout).toMatch(new RegExp(`^  ${runId}: .* \\(removed\\)$`, 'm'));
    expect(await containers()).toEqual([]);
    expect(await networks()).toEqual([]);
  });
});

describe('agent backup', () => {
  it('copies the store consistently while a run writes to it; the copies open and have the run', async () => {
    const dir = await tempDir();
    const go = join(dir, 'go');
    await writeFile(
      join(dir, 'agent.yaml'),
      `${header('chatty')}spec:
  steps:
    talk:
      run: i=0; while [ ! -f '${go}' ]; do echo "line $i"; i=$((i+1)); sleep 0.01; done; echo bye
`,
    );
    const { child, runId } = await startRun(dir, [], 'step talk | line 20');
    const counts: number[] = [];
    for (const name of ['b1.db', 'b2.db', 'b3.db']) {
      const r = await agent(['backup', name], { cwd: dir });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout).toMatch(
        new RegExp(`^backed up .agentfile/state.db to ${name} \\(\\d+ pages, `),
      );
      const copy = new Database(join(dir, name), { readonly: true });
      try {
        expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
        const run = copy.prepare('SELECT status FROM runs WHERE id = ?').get(runId) as {
          status: string;
        };
        expect(run.status).toBe('running');
        const n = copy.prepare('SELECT COUNT(*) AS n FROM events WHERE run_id = ?').get(runId) as {
          n: number;
        };
        counts.push(n.n);
      } finally {
        copy.close();
      }
    }
    expect(counts[0]).toBeGreaterThan(0);
    // Later copies hold at least what earlier ones did.
    expect([...counts].sort((a, b) => a - b)).toEqual(counts);
    await writeFile(go, '');
    expect((await child).exitCode).toBe(0);

    const last = await agent(['backup', 'final.db'], { cwd: dir });
    expect(last.exitCode).toBe(0);
    const copy = new Database(join(dir, 'final.db'), { readonly: true });
    try {
      const run = copy.prepare('SELECT status FROM runs WHERE id = ?').get(runId) as {
        status: string;
      };
      expect(run.status).toBe('succeeded');
    } finally {
      copy.close();
    }
    // The copy is a store the CLI reads like the original.
    const status = await agent(['status', runId, '--state', 'final.db'], { cwd: dir });
    expect(status.stdout).toMatch(/^talk +step +succeeded +1 /m);

    const again = await agent(['backup', 'b1.db'], { cwd: dir });
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toContain('b1.db already exists; a backup never overwrites a file');
  });

  it('finishes a copy of a large store while another process writes to it every few ms', async () => {
    // SQLite restarts an online backup whenever another connection writes
    // between two of its steps: copied a few pages per step, a store of
    // thousands of pages is never done while something writes every few ms.
    const dir = await tempDir();
    await writeFile(
      join(dir, 'agent.yaml'),
      `${header('filler')}spec:\n  steps:\n    a:\n      run: 'true'\n`,
    );
    expect((await agent(['run'], { cwd: dir })).exitCode).toBe(0);
    const [filler] = runIds(dir);
    // About 40 MB of old events (10 000 pages).
    writeState(dir, (db) => {
      const insert = db.prepare(
        "INSERT INTO events (run_id, at, type, node, data) VALUES (?, 0, 'step.output', 'a', ?)",
      );
      const data = JSON.stringify({
        v: 1,
        step: 'a',
        attempt: 1,
        stream: 'stdout',
        lines: ['x'.repeat(1000)],
      });
      db.transaction(() => {
        for (let i = 0; i < 40_000; i++) insert.run(filler, data);
      })();
    });
    // A writer that commits every 2 ms until killed.
    const writer = execa(
      'node',
      [
        '-e',
        `const Database = require(${JSON.stringify(require.resolve('better-sqlite3'))});
         const db = new Database('.agentfile/state.db', { timeout: 10000 });
         const insert = db.prepare("INSERT INTO events (run_id, at, type, node, data) VALUES (?, 1, 'step.output', 'a', '{}')");
         setInterval(() => insert.run(${JSON.stringify(filler)}), 2);
         process.stdout.write('writing\\n');`,
      ],
      { cwd: dir, reject: false, buffer: true },
    );
    const writing = collectStdout(writer);
    try {
      await waitFor(() => writing().includes('writing'), { timeoutMs: 30_000 });
      const r = await agent(['backup', 'big.db'], { cwd: dir, timeoutMs: 60_000 });
      expect(r.exitCode, r.stderr).toBe(0);
    } finally {
      writer.kill('SIGKILL');
      await writer;
    }
    const copy = new Database(join(dir, 'big.db'), { readonly: true });
    try {
      expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
      const n = copy.prepare('SELECT COUNT(*) AS n FROM events WHERE run_id = ?').get(filler) as {
        n: number;
      };
      expect(n.n).toBeGreaterThan(40_000);
    } finally {
      copy.close();
    }
  }, 120_000);
});
