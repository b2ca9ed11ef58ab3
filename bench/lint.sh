#!/usr/bin/env bash
# agent lint / agent plan: start-up against peers, and growth with the number
# of steps, each in one hyperfine run (read ratios, not times: these machines
# are shared and noisy).
#
# 1. Start-up (writes bench/lint.md): `agent lint` and `agent plan` of the
#    bundled pipeline example, beside
#      - node -e ''     Node.js start-up alone: what any Node CLI pays
#      - ajv-cli        validating the same file against the same JSON Schemas
#                       (npm's ajv-cli 5, installed into a cache folder on first use)
#      - yamllint       Debian's YAML linter on the same file (when installed)
# 2. Scaling (writes bench/lint-scaling.md): lint and plan of chain workflows
#    of 1,000, 5,000, 10,000 and 50,000 steps (bench/gen-chain.mjs).
#
#   bench/lint.sh                      # needs hyperfine (Debian: apt-get install hyperfine)
#   RUNS=30 STEPS=1000,5000 bench/lint.sh
#   BASELINE=/path/to/other/checkout bench/lint.sh   # also time that (built) tree, same run
#
# Optional peers: apt-get install yamllint; ajv-cli needs the npm registry once
# (AJV_CLI=/path/to/ajv to use another). The BASELINE tree is timed in the
# scaling series up to BASELINE_MAX_STEPS (default 5000) steps only: an old,
# quadratic tree can take many minutes beyond.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
command -v hyperfine >/dev/null || { echo "bench: hyperfine is not installed (apt-get install hyperfine)" >&2; exit 2; }
[ -f "$root/dist/cli/main.js" ] && [ -f "$root/generated/schema-validators.js" ] || (cd "$root" && npm run --silent build)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
runs=${RUNS:-15}
example=examples/pipeline/workflow.yaml

ajv=${AJV_CLI:-}
if [ -z "$ajv" ]; then
  cache=${XDG_CACHE_HOME:-$HOME/.cache}/agentfile/bench-peers
  if [ ! -x "$cache/node_modules/.bin/ajv" ]; then
    npm install --silent --no-audit --no-fund --prefix "$cache" ajv-cli@5 >/dev/null 2>&1 ||
      echo "bench: could not install ajv-cli; leaving it out" >&2
  fi
  [ -x "$cache/node_modules/.bin/ajv" ] && ajv=$cache/node_modules/.bin/ajv
fi

cd "$root"
args=(-n "agent lint" "node bin/agent.js lint $example"
  -n "agent plan" "node bin/agent.js plan $example")
if [ -n "${BASELINE:-}" ]; then
  args+=(-n "agent lint (baseline)" "node $BASELINE/bin/agent.js lint $example"
    -n "agent plan (baseline)" "node $BASELINE/bin/agent.js plan $example")
fi
[ -n "$ajv" ] && args+=(-n "ajv-cli validate" "node $ajv validate --spec=draft2020 --all-errors --strict=true --allow-union-types -s schemas/workflow.schema.json -r schemas/agent.schema.json -d $example")
command -v yamllint >/dev/null && args+=(-n "yamllint" "yamllint -d relaxed $example")
args+=(-n "node -e ''" "node -e ''")
# The tables: mean wall time, user CPU (which other jobs on a shared machine
# inflate much less) and wall time relative to the first command.
table() {
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).results;
    const ms = (s) => (s * 1000).toFixed(0);
    const base = r.find((x) => x.command === process.argv[2]) ?? r[0];
    console.log("| Command | Mean wall [ms] | User CPU [ms] | Relative to `" + base.command + "` |");
    console.log("| :-- | --: | --: | --: |");
    for (const x of r) console.log(`| \`${x.command}\` | ${ms(x.mean)} ± ${ms(x.stddev)} | ${ms(x.user)} | ${(x.mean / base.mean).toFixed(2)} |`);
  ' "$1" "$2" >"$3"
}

hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/startup.json" "${args[@]}"
table "$work/startup.json" "node -e ''" "$root/bench/lint.md"

steps=${STEPS:-1000,5000,10000,50000}
IFS=, read -r -a sizes <<<"$steps"
for n in "${sizes[@]}"; do node bench/gen-chain.mjs "$n" >"$work/chain-$n.yaml"; done
args=()
for n in "${sizes[@]}"; do
  args+=(-n "lint $n steps" "node bin/agent.js lint $work/chain-$n.yaml"
    -n "plan $n steps" "node bin/agent.js plan $work/chain-$n.yaml")
  if [ -n "${BASELINE:-}" ] && [ "$n" -le "${BASELINE_MAX_STEPS:-5000}" ]; then
    args+=(-n "lint $n steps (baseline)" "node $BASELINE/bin/agent.js lint $work/chain-$n.yaml"
      -n "plan $n steps (baseline)" "node $BASELINE/bin/agent.js plan $work/chain-$n.yaml")
  fi
done
hyperfine -N --warmup 1 --runs "${SCALING_RUNS:-3}" --export-json "$work/scaling.json" "${args[@]}"
table "$work/scaling.json" "lint ${sizes[0]} steps" "$root/bench/lint-scaling.md"
