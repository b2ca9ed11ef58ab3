#!/usr/bin/env node
// Writes a Workflow whose N steps form one chain (s2 needs s1, s3 needs s2,
// ...) to stdout: the input of the lint/plan scaling series (bench/lint.sh).
//
//   node bench/gen-chain.mjs 5000 > chain-5000.yaml
const n = Number(process.argv[2]);
if (!Number.isInteger(n) || n < 1) {
  process.stderr.write('usage: gen-chain.mjs STEPS (a positive integer)\n');
  process.exit(2);
}
const lines = [
  'apiVersion: agentfile/v1',
  'kind: Workflow',
  `metadata: { name: chain-${n} }`,
  'spec:',
  '  concurrency: 1',
  '  steps:',
];
for (let i = 1; i <= n; i++) {
  lines.push(`    s${i}:`, '      command: ["true"]');
  if (i > 1) lines.push(`      needs: [s${i - 1}]`);
}
process.stdout.write(`${lines.join('\n')}\n`);
