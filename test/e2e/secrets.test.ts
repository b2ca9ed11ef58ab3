/**
 * A known secret written through every path out of a run (echoed, split
 * across two writes, in an output, in an expression error, in a failed
 * step's log tail, in a container's /run/secrets file), then every byte the
 * run left behind is searched: the state store and its WAL, the log and
 * output files, the NDJSON stream, the JUnit file, the terminal output.
 * Zero occurrences. Real processes, real SQLite, the real Docker engine.
 */

import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeDocker } from '../helpers/docker.js';
import { agent, tempDir } from './cli.js';

const SECRET = 'hunter2-Zq8xW3-not-for-logs';
const PEM = 'line-one-of-key-AAAA\nline-two-of-key-BBBB';

/** Every file under `dir`, recursively. */
async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await files(p)));
    else out.push(p);
  }
  return out;
}

/** The places (file names, or labels) whose bytes contain `needle`. */
async function leaks(
  dir: string,
  texts: Record<string, string>,
  needles: string[],
): Promise<string[]> {
  const found: string[] = [];
  for (const f of await files(dir)) {
    if ((await stat(f)).size === 0) continue;
    const bytes = await readFile(f);
    for (const n of needles) if (bytes.includes(Buffer.from(n))) found.push(`${f}: ${n}`);
  }
  for (const [label, text] of Object.entries(texts))
    for (const n of needles) if (text.includes(n)) found.push(`${label}: ${n}`);
  return found;
}

const WORKFLOW = `apiVersion: agentfile/v1
kind: Workflow
metadata: { name: secret-paths }
spec:
  concurrency: 1
  secrets: [TOKEN, KEY]
  steps:
    echo:
      env: { T: "\${{ secrets.TOKEN }}" }
      run: |
        echo "plain: $T"
        printf 'split: %s' "$(printf %s "$T" | cut -c1-7)"; sleep 0.2; printf '%s\\n' "$(printf %s "$T" | cut -c8-)"
        echo "stderr: $T" >&2
        printf 'key:\\n%s\\n' "$KEY_VALUE"
    output:
      needs: [echo]
      run: echo "leak=\${{ secrets.TOKEN }}" >> "$AGENT_OUTPUT"
    reads-output:
      needs: [output]
      run: echo "the output is \${{ steps.output.outputs.leak }}"
    bad-expression:
      needs: [reads-output]
      continueOnError: true
      run: echo "\${{ fromJSON(secrets.TOKEN) }}"
    fails:
      needs: [bad-expression]
      run: |
        echo "about to fail with $TOKEN_AGAIN"
        exit 7
      env: { TOKEN_AGAIN: "\${{ secrets.TOKEN }}" }
`;

describe('secrets are masked on every path out', () => {
  it('leaves no trace of the value in the store, logs, NDJSON, JUnit or terminal', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'agent.yaml'), WORKFLOW.replace('$KEY_VALUE', '${{ secrets.KEY }}'));
    await writeFile(join(dir, 'secrets.env'), `KEY="${PEM.replace('\n', '\\n')}"\n`);
    const json = await agent(
      ['run', '--output', 'json', '--junit', 'junit.xml', '--secret-file', 'secrets.env'],
      { cwd: dir, env: { AGENT_SECRET_TOKEN: SECRET } },
    );
    expect(json.exitCode, json.stderr).toBe(1);
    // The run went through every path: masked values are where the secret was.
    expect(json.stdout).toContain('plain: ***');
    expect(json.stdout).toContain('split: ***');
    expect(json.stdout).toContain('the output is ***');
    expect(json.stdout).toMatch(/about to fail with \*\*\*/);
    const plain = await agent(['run', '--resume', '--secret-file', 'secrets.env'], {
      cwd: dir,
      env: { AGENT_SECRET_TOKEN: SECRET },
    });
    expect(plain.exitCode).toBe(1);
    const status = await agent(['status'], { cwd: dir });
    const logs = await agent(['logs', 'fails'], { cwd: dir });
    const events = await agent(['events'], { cwd: dir });
    expect(status.stdout).toContain('fails');
    const needles = [SECRET, ...PEM.split('\n'), SECRET.slice(0, 12)];
    const found = await leaks(
      dir,
      {
        'json stdout': json.stdout,
        'json stderr': json.stderr,
        'plain stdout': plain.stdout,
        'plain stderr': plain.stderr,
        status: status.stdout + status.stderr,
        logs: logs.stdout + logs.stderr,
        events: events.stdout + events.stderr,
      },
      // The secret file itself holds the key, on purpose; the token is only in the environment.
      needles,
    ).then((list) => list.filter((l) => !l.startsWith(join(dir, 'secrets.env'))));
    expect(found).toEqual([]);
    expect(await readFile(join(dir, 'junit.xml'), 'utf8')).toContain('***');
  });

  it('refuses to start when a declared secret has no value', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'agent.yaml'), WORKFLOW);
    const r = await agent(['run'], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('missing secret "KEY"');
    expect(r.stderr).toContain('missing secret "TOKEN"');
    await expect(stat(join(dir, '.agentfile'))).rejects.toThrow(/ENOENT/);
  });
});

describeDocker('secrets in containers', () => {
  it('mounts /run/secrets/NAME and masks what the container prints (image from an expression)', async () => {
    const dir = await tempDir();
    await writeFile(
      join(dir, 'agent.yaml'),
      `apiVersion: agentfile/v1
kind: Workflow
metadata: { name: container-secret }
spec:
  inputs:
    image: { default: local/busybox }
  secrets: [TOKEN]
  steps:
    read:
      image: "\${{ inputs.image }}:latest"
      run: |
        test "$(cat /run/secrets/TOKEN)" = "$EXPECTED" && echo "file matches"
        cat /run/secrets/TOKEN; echo
      env: { EXPECTED: "\${{ secrets.TOKEN }}" }
`,
    );
    const r = await agent(['run', '--secret', `TOKEN=${SECRET}`], { cwd: dir, timeoutMs: 120_000 });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('file matches');
    expect(r.stdout).toContain('***');
    expect(await leaks(dir, { stdout: r.stdout, stderr: r.stderr }, [SECRET])).toEqual([]);
  });
});
