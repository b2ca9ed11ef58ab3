/** Every agentfile document under examples/ lints clean with `agent lint --strict`. */

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runAgent } from './cli-capture.js';

const root = path.resolve(import.meta.dirname, '../../..');

function yamlFiles(dir: string): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.posix.join(dir, e.name);
    if (e.isDirectory()) return yamlFiles(rel);
    return /\.ya?ml$/.test(e.name) ? [rel] : [];
  });
}

const files = yamlFiles('examples');

describe('examples lint clean with --strict', () => {
  it('finds the examples', () => {
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const f of files) expect(readFileSync(path.join(root, f), 'utf8')).toMatch(/^kind: /m);
  });

  for (const file of files) {
    it(file, async () => {
      const r = await runAgent(['lint', '--strict', file], root);
      expect(r.stdout).toBe(`${file}: no problems found\n`);
      expect(r.code).toBe(0);
    });
  }
});
