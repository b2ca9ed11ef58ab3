#!/usr/bin/env node
// Node's on-disk cache of compiled code (node:module enableCompileCache, in
// the OS temp dir; NODE_DISABLE_COMPILE_CACHE=1 turns it off) saves part of
// parsing and compiling the ~140 modules `agent` loads at every start. It
// must be on before they load, hence the dynamic import.
import module from 'node:module';

module.enableCompileCache?.();
const { main } = await import('../dist/cli/main.js').catch((error) => {
  // A tree that was not built (or built before the schemas were compiled
  // ahead of time): say what to do in one line.
  const generated =
    error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('schema-validators');
  process.stderr.write(
    generated
      ? 'agent: generated/schema-validators.js is missing; run `npm run build` (it compiles schemas/*.json ahead of time)\n'
      : `${error?.stack ?? error}\n`,
  );
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
