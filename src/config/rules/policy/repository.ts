/** The repository a linted file belongs to, for rules about host paths. */

import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * The repository root of `dir`: the nearest ancestor directory (or `dir`
 * itself) that holds a `.git` entry (a directory, or a file in a worktree or
 * submodule); `dir` itself when there is none. Reads the filesystem; never
 * throws.
 */
export function repositoryRoot(dir: string): string {
  let current = path.resolve(dir);
  for (;;) {
    if (existsSync(path.join(current, '.git'))) return current;
    const parent = path.dirname(current);
    if (parent === current) return path.resolve(dir);
    current = parent;
  }
}

/** True when `target` is `root` or inside it (both absolute). */
export function isInside(root: string, target: string): boolean {
  const rel = path.relative(root, target);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}
