/**
 * `policy/secret-literal` names the variable and never prints the value, in
 * any output format `agent lint` has (read from `agent lint --help`, so a new
 * format is covered when it is added).
 */

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runAgent } from './cli-capture.js';

const root = path.resolve(import.meta.dirname, '../../..');
const file = 'test/fixtures/lint/policy/secret-literal.yaml';

/** The literal values of the fixture that are secrets (each is flagged). */
const SECRETS = [
  'AKIAIOSFODNN7EXAMPLE',
  'hunter2hunter2',
  'ghp_Zq8vR2mW5tY7uI9oP1aS3dF6gH4jK0lX2cV8',
  'xoxb-1234567890-abcdefghij',
  '9fK2pQ7xL4mN8vB3zR6tY1wE5',
  'MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu',
  'Zm9vYmFyYmF6cXV4cXV1eA2',
  'npm_Qx7pL2mZ9vK4tR8wN1yB6cF3hJ5aD0sE2gW4',
];

async function formats(): Promise<string[]> {
  const help = await runAgent(['lint', '--help'], root);
  const choices =
    /--format <format>[\s\S]*?\(choices:\s+([^)]*?)(?:,\s+default:|\))/.exec(help.stdout)?.[1] ??
    '';
  return [...choices.matchAll(/"([^"]+)"/g)].map((m) => m[1] ?? '');
}

describe('secret values are never printed', () => {
  it('the fixture holds every value', () => {
    const text = readFileSync(path.join(root, file), 'utf8');
    for (const s of SECRETS) expect(text).toContain(s);
  });

  it('lint --help lists the formats', async () => {
    expect(await formats()).toEqual(expect.arrayContaining(['pretty', 'json', 'github']));
  });

  for (const strict of [false, true]) {
    it(`in every format${strict ? ' with --strict' : ''}`, async () => {
      for (const format of await formats()) {
        const r = await runAgent(
          ['lint', ...(strict ? ['--strict'] : []), '--format', format, file],
          root,
        );
        const all = r.stdout + r.stderr;
        expect(all, format).toMatch(/GITHUB_TOKEN/);
        expect(all, format).toMatch(/policy\/secret-literal/);
        for (const s of SECRETS) expect(all, `${format}: ${s}`).not.toContain(s);
        // Nor a long part of one (a snippet cut at the caret, say).
        for (const s of SECRETS) expect(all, format).not.toContain(s.slice(0, 12));
      }
    });
  }
});

describe('secret values stay masked when the rule does not report them', () => {
  it('with policy/secret-literal off, in a snippet of another problem on the line', async () => {
    const { mkdtemp, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(path.join(tmpdir(), 'agentfile-mask-'));
    await writeFile(path.join(dir, '.git'), 'gitdir: elsewhere\n');
    await writeFile(path.join(dir, '.agentlint.yaml'), 'rules:\n  policy/secret-literal: off\n');
    await writeFile(
      path.join(dir, 'agent.yaml'),
      'apiVersion: agentfile/v1\nkind: Agent\nmetadata:\n  name: a\nspec:\n  command: [sleep, "1"]\n  healthCheck: { command: [true] }\n  environment:\n    - { name: GITHUB_TOKEN, value: ghp_Zq8vR2mW5tY7uI9oP1aS3dF6gH4jK0lX2cV8, from: env }\n',
    );
    const r = await runAgent(['lint', 'agent.yaml'], dir);
    expect(r.stdout).toMatch(/^agent\.yaml:9:/m);
    expect(r.stdout).not.toContain('ghp_Zq8v');
  });
});
