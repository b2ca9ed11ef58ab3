#!/usr/bin/env bash
# ensure-chromium.sh: make a headless Chromium available for the HTML report's
# browser test (test/e2e/report-html.test.ts) on a Debian-based machine, and
# print the path of its binary on stdout. Idempotent: when a Chromium is
# already there it only prints its path.
#
#   scripts/ensure-chromium.sh                       # install if missing, print path
#   AGENTFILE_CHROMIUM=/path/to/chrome scripts/ensure-chromium.sh   # use that one
#
# It installs Debian's `chromium` package (apt-get, with sudo when not root).
# The test drives it with playwright-core (a devDependency), which downloads
# no browser of its own. The test finds the binary the same way: the
# AGENTFILE_CHROMIUM environment variable, else `chromium` on PATH.
set -euo pipefail

log() { printf '[ensure-chromium] %s\n' "$*" >&2; }

find_chromium() {
  if [ -n "${AGENTFILE_CHROMIUM:-}" ]; then
    [ -x "$AGENTFILE_CHROMIUM" ] && echo "$AGENTFILE_CHROMIUM"
    return 0
  fi
  command -v chromium 2>/dev/null || true
}

bin=$(find_chromium)
if [ -z "$bin" ]; then
  if [ -n "${AGENTFILE_CHROMIUM:-}" ]; then
    log "AGENTFILE_CHROMIUM=$AGENTFILE_CHROMIUM is not an executable file"
    exit 1
  fi
  SUDO=()
  if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO=(sudo); fi
  log "installing chromium (apt-get)"
  started=$SECONDS
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -qq >/dev/null
  "${SUDO[@]}" apt-get install -y -qq --no-install-recommends chromium >/dev/null
  log "installed in $((SECONDS - started)) s"
  bin=$(find_chromium)
  [ -n "$bin" ] || { log "no chromium on PATH after installing it"; exit 1; }
fi

log "ready: $("$bin" --version 2>/dev/null || echo "$bin")"
echo "$bin"
