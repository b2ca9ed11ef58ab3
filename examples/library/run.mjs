// agentfile as a library: plan a workflow, run it, follow its events, and
// read the run back from the store. `node examples/library/run.mjs`
import { fileURLToPath } from 'node:url';
import { listRuns, plan, startRun } from 'agentfile';

const file = fileURLToPath(new URL('workflow.yaml', import.meta.url));
const workflow = await plan(file);
console.log(`plan: ${workflow.nodes.map((n) => n.id).join(' -> ')}`);

const run = startRun({ plan: workflow });
for await (const event of run.events()) {
  if (event.type === 'step.output')
    for (const line of event.lines) console.log(`  ${event.step} | ${line}`);
  if (event.type === 'step.finished') console.log(`step ${event.step}: ${event.status}`);
}
const result = await run.result;
console.log(`run ${result.runId}: ${result.status}`);

const [latest] = await listRuns({ file });
console.log(`latest recorded run: ${latest.id} ${latest.status}`);
process.exitCode = result.status === 'succeeded' ? 0 : 1;
