/**
 * Examples are copied into tests without the local state a user's run leaves
 * in the checkout (the README's quick start runs the example in place, then
 * `npm test`).
 */

import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyExample, copyWithoutLocalState, tempDir } from './cli.js';

async function tree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

describe('copying an example', () => {
  it('leaves out .agentfile/, node_modules/, build output and logs at any depth', async () => {
    const src = await tempDir('agentfile-copy-src-');
    const files = [
      'workflow.yaml',
      'agent/server.js',
      '.agentfile/state.db',
      '.agentfile/logs/run/step.log',
      'node_modules/x/index.js',
      'agent/node_modules/y/index.js',
      'agent/dist/server.js',
      'agent/.agentfile/state.db',
      'npm-debug.log',
    ];
    for (const f of files) {
      await mkdir(join(src, f, '..'), { recursive: true });
      await writeFile(join(src, f), f);
    }
    const dest = await tempDir('agentfile-copy-dest-');
    await copyWithoutLocalState(src, dest);
    expect(await tree(dest)).toEqual(['agent/server.js', 'workflow.yaml']);
  });

  it('copies hello-agent with its files and no store', async () => {
    const dir = await copyExample('hello-agent');
    const files = await tree(dir);
    expect(files).toEqual(expect.arrayContaining(['workflow.yaml', 'agent.yaml', 'check.mjs']));
    expect(files.filter((f) => f.startsWith('.agentfile'))).toEqual([]);
  });
});
