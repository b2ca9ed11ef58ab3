/** Runs `agent …` in-process (src/cli/main.ts) with captured output. */

import { main } from '../../../src/cli/main.js';

/** What an in-process `agent` invocation printed and returned. */
export interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `agent ...argv` in `cwd` and captures stdout and stderr. */
export async function runAgent(argv: string[], cwd: string): Promise<Captured> {
  const out: string[] = [];
  const err: string[] = [];
  const stream = (into: string[]) =>
    ({
      write: (t: string) => {
        into.push(t);
        return true;
      },
    }) as unknown as NodeJS.WritableStream;
  const code = await main(argv, { stdout: stream(out), stderr: stream(err), env: {}, cwd });
  return { code, stdout: out.join(''), stderr: err.join('') };
}
