/**
 * Vitest global setup: the tests import src/, which imports the validators
 * generated from schemas/*.json (scripts/build-schemas.mjs). Regenerating
 * them here when a schema changed keeps a test run from checking files
 * against stale validators; it is a no-op when they are current.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  execFileSync(
    process.execPath,
    [fileURLToPath(new URL('../scripts/build-schemas.mjs', import.meta.url))],
    {
      stdio: 'inherit',
    },
  );
}
