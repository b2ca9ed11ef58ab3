#!/usr/bin/env node
import { main } from '../dist/cli/main.js';

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
