import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tar from 'tar-stream';
import { describe, expect, it } from 'vitest';
import {
  generatedContextHash,
  packGeneratedContext,
  planAgentBuild,
} from '../../../src/agentdev/context.js';

/** The entries of a tar stream: path → text. */
async function entries(stream: NodeJS.ReadableStream): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const extract = tar.extract();
  await new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, body, next) => {
      const chunks: Buffer[] = [];
      body.on('data', (c: Buffer) => chunks.push(c));
      body.on('end', () => {
        out[header.name] = Buffer.concat(chunks).toString('utf8');
        next();
      });
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
    stream.pipe(extract);
  });
  return out;
}

async function folder(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'agentfile-agentdev-'));
  await writeFile(join(dir, 'index.js'), 'console.log(1)\n');
  await writeFile(join(dir, 'agent.yaml'), 'apiVersion: agent.dev/v1\n');
  await mkdir(join(dir, 'lib'));
  await writeFile(join(dir, 'lib', 'util.js'), 'module.exports = 1\n');
  await mkdir(join(dir, '.agentfile'));
  await writeFile(join(dir, '.agentfile', 'state.db'), 'state');
  await mkdir(join(dir, 'node_modules'));
  await writeFile(join(dir, 'node_modules', 'x.js'), 'x');
  return dir;
}

describe('the generated build context', () => {
  it('packs the folder without state and installed packages, plus the generated files', async () => {
    const dir = await folder();
    const plan = planAgentBuild({
      dir,
      runtime: { language: 'nodejs' },
      name: 'bot',
      version: '1.0.0',
      dependencies: ['express@^4.18.0'],
      ports: [],
    });
    expect(plan.command).toEqual(['node', 'index.js']);
    expect(plan.manifest).toEqual({ file: 'package.json', generated: true });
    expect(Object.keys(plan.files).sort()).toEqual([
      '.agentfile-build/Dockerfile',
      '.agentfile-build/config.json',
      'package.json',
    ]);
    const packed = await entries(await packGeneratedContext(dir, plan.files));
    expect(Object.keys(packed).sort()).toEqual([
      '.agentfile-build/Dockerfile',
      '.agentfile-build/config.json',
      'agent.yaml',
      'index.js',
      'lib/util.js',
      'package.json',
    ]);
    expect(packed['.agentfile-build/Dockerfile']).toContain('RUN npm install --omit=dev');
    // The folder was only read.
    expect((await readdir(dir)).sort()).toEqual([
      '.agentfile',
      'agent.yaml',
      'index.js',
      'lib',
      'node_modules',
    ]);
  });

  it('hashes the context: the same for the same content, changed by a source or generated file', async () => {
    const dir = await folder();
    const files = { '.agentfile-build/Dockerfile': 'FROM node:20\n' };
    const first = await generatedContextHash(dir, files);
    expect(await generatedContextHash(dir, files)).toBe(first);
    await writeFile(join(dir, '.agentfile', 'state.db'), 'other state');
    expect(await generatedContextHash(dir, files)).toBe(first);
    expect(await generatedContextHash(dir, { ...files, 'x.json': '{}' })).not.toBe(first);
    await writeFile(join(dir, 'index.js'), 'console.log(2)\n');
    expect(await generatedContextHash(dir, files)).not.toBe(first);
  });
});
