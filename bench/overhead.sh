#!/usr/bin/env bash
# Runner overhead, side by side with peers, in one hyperfine run.
#
# The same 10-step chain of no-op process steps (`true`) is run by:
#   - agent run   (plan, SQLite checkpoints of every state change, plain output)
#   - make        (GNU Make, the classic DAG runner; no state, no output)
#   - sh          (the steps in sequence; the floor)
#   - node -e ''  (Node.js start-up alone: what any Node CLI pays)
# and `agent lint` on the same file. Read the ratios, not the times: these
# machines are shared and noisy.
#
#   bench/overhead.sh            # needs hyperfine (Debian: apt-get install hyperfine)
#   RUNS=30 bench/overhead.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
command -v hyperfine >/dev/null || { echo "bench: hyperfine is not installed (apt-get install hyperfine)" >&2; exit 2; }
[ -f "$root/dist/cli/main.js" ] || (cd "$root" && npm run --silent build)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
steps=10
{
  printf 'apiVersion: agentfile/v1\nkind: Workflow\nmetadata: { name: chain }\nspec:\n  concurrency: 1\n  steps:\n'
  for i in $(seq 1 $steps); do
    printf '    s%d:\n      command: ["true"]\n' "$i"
    [ "$i" -gt 1 ] && printf '      needs: [s%d]\n' $((i - 1))
  done
} >"$work/agent.yaml"
{
  printf 'all: s%d\n' $steps
  for i in $(seq 1 $steps); do
    if [ "$i" -gt 1 ]; then printf 's%d: s%d\n\t@true\n' "$i" $((i - 1)); else printf 's1:\n\t@true\n'; fi
  done
  printf '.PHONY: all'; for i in $(seq 1 $steps); do printf ' s%d' "$i"; done; printf '\n'
} >"$work/Makefile"
printf 'true\n%.0s' $(seq 1 $steps) >"$work/chain.sh"

cd "$work"
agent="node $root/bin/agent.js"
hyperfine --warmup 2 --runs "${RUNS:-15}" -N \
  --export-markdown "$root/bench/overhead.md" \
  -n "agent run ($steps steps)" "$agent run agent.yaml --state $work/state.db --output plain" \
  -n "agent lint" "$agent lint agent.yaml" \
  -n "make ($steps targets)" "make -s -f $work/Makefile" \
  -n "sh ($steps commands)" "sh $work/chain.sh" \
  -n "node -e ''" "node -e ''"
