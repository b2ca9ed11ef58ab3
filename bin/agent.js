#!/usr/bin/env node
// Node's on-disk cache of compiled code (node:module enableCompileCache, in
// the OS temp dir; NODE_DISABLE_COMPILE_CACHE=1 turns it off) saves part of
// parsing and compiling the ~140 modules `agent` loads at every start. It
// must be on before they load, hence the dynamic import.
import module from 'node:module';

module.enableCompileCache?.();
const { main } = await import('../dist/cli/main.js').catch((error) => {
  // A tree that was not built: say so in one line (schema.ts's message).
  const text = String(error?.message ?? error);
  process.stderr.write(`${text.startsWith('agentfile:') ? text : (error?.stack ?? text)}\n`);
  process.exit(70);
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(
      `agent: internal error: ${error?.stack ?? error}\nThis is a bug in agentfile; please report it with the command you ran.\n`,
    );
    process.exitCode = 70;
  },
);
