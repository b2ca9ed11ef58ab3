/**
 * `agent schema`: the JSON Schemas as editors load them (self-contained:
 * src/config/schema-bundle.ts), printed or written to a directory that a
 * `# yaml-language-server: $schema=…` line can point at.
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { SCHEMA_FILE_NAMES, type SchemaName, schemaText } from '../config/schema-bundle.js';
import { CliError, type CliIo, ExitCode } from './common.js';

/** The schema a `kind` argument names (case-insensitive), or undefined. */
export function schemaName(kind: string): SchemaName | undefined {
  const k = kind.toLowerCase();
  if (k === 'agent.dev/v1') return 'agent.dev/v1';
  if (k === 'agent') return 'Agent';
  if (k === 'workflow') return 'Workflow';
  return undefined;
}

/**
 * Registers `agent schema [KIND] [--output DIR]` on the program; `setExit`
 * receives its exit code. Without `--output` it prints KIND's schema
 * (default Workflow); with it, it writes every schema (agent.schema.json,
 * workflow.schema.json, agent-dev-v1.schema.json) to DIR, creating it, and
 * prints the paths written.
 */
export function registerSchemaCommand(
  program: Command,
  io: CliIo,
  setExit: (code: number) => void,
): void {
  program
    .command('schema')
    .description(
      'print the JSON Schema of a document kind, self-contained (for editors and CI); --output DIR writes them all',
    )
    .argument('[kind]', 'Agent, Workflow or agent.dev/v1 (agent-as-code Agents)', 'Workflow')
    .option('-o, --output <dir>', 'write every schema to this directory instead of printing one')
    .action((kind: string, opts: { output?: string }) => {
      const name = schemaName(kind);
      if (!name) {
        throw new CliError(`unknown kind "${kind}"; expected Agent or Workflow`, ExitCode.invalid);
      }
      if (opts.output === undefined) {
        io.stdout.write(schemaText(name));
        setExit(ExitCode.ok);
        return;
      }
      const dir = path.resolve(io.cwd, opts.output);
      mkdirSync(dir, { recursive: true });
      for (const [schema, file] of Object.entries(SCHEMA_FILE_NAMES)) {
        const target = path.join(dir, file);
        writeFileSync(target, schemaText(schema as SchemaName));
        io.stdout.write(`${path.join(opts.output, file)}\n`);
      }
      setExit(ExitCode.ok);
    });
}
