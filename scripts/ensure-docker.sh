#!/usr/bin/env bash
# ensure-docker.sh: make a real Docker Engine available for agentfile's tests
# and CI on a Debian-based machine that has no container registry, and load
# the two small local images the tests and examples use. Idempotent: a
# second call only checks, and returns in well under a second.
#
#   scripts/ensure-docker.sh                  # engine + images
#   DOCKER_IMAGES=0 scripts/ensure-docker.sh  # engine only
#
# What it does, each step only when needed:
#   1. installs Debian's docker.io and busybox-static (apt-get);
#   2. starts dockerd in the background when `docker info` fails, logging to
#      /var/log/dockerd.log (or $TMPDIR/dockerd.log when /var/log is not
#      writable), and waits up to 30 s for it;
#   3. imports, from files already on the machine (no pull):
#        local/busybox:latest  busybox-static with the applets below,
#                              /etc/passwd (root, nobody), /tmp 1777,
#                              PATH=/bin, CMD ["sh"]                (~2 MB)
#        local/node:20         this machine's node binary and the shared
#                              libraries it links, plus busybox,
#                              PATH=/usr/bin:/bin, WORKDIR /app,
#                              CMD ["node"]                         (~100 MB)
#   4. tags them under the public names the examples use, node:20 and
#      busybox:1.36, when no image of that name is present, so examples
#      written for a machine with a registry run here unchanged.
#
# Machines with a registry don't need this: use your own Docker and images
# (the examples take their base image as a build argument).
set -euo pipefail

log() { printf '[ensure-docker] %s\n' "$*" >&2; }

# Root is needed to install packages and start the daemon.
SUDO=()
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO=(sudo); fi

# --- 1. packages ------------------------------------------------------------
busybox_bin() { command -v busybox 2>/dev/null || { [ -x /bin/busybox ] && echo /bin/busybox; } || true; }
if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1 || [ -z "$(busybox_bin)" ]; then
  log "installing docker.io and busybox-static (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -qq >/dev/null
  "${SUDO[@]}" apt-get install -y -qq docker.io busybox-static >/dev/null
fi
BUSYBOX=$(busybox_bin)
[ -n "$BUSYBOX" ] || { log "busybox not found after installing busybox-static"; exit 1; }
# Only a static busybox works inside an empty root filesystem.
if command -v ldd >/dev/null 2>&1 && ldd "$BUSYBOX" 2>/dev/null | grep -q '=>'; then
  log "$BUSYBOX is dynamically linked; install busybox-static"; exit 1
fi

# --- 2. engine --------------------------------------------------------------
if ! docker info >/dev/null 2>&1; then
  logdir=/var/log
  if [ ! -w "$logdir" ] && [ ${#SUDO[@]} -eq 0 ]; then logdir=${TMPDIR:-/tmp}; fi
  logfile=$logdir/dockerd.log
  log "starting dockerd (log: $logfile)"
  "${SUDO[@]}" sh -c "nohup dockerd >>'$logfile' 2>&1 &"
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 0.5
  done
  if ! docker info >/dev/null 2>&1; then
    log "dockerd did not answer within 30 s; last lines of $logfile:"
    tail -n 20 "$logfile" >&2 || true
    exit 1
  fi
fi

[ "${DOCKER_IMAGES:-1}" = 0 ] && { log "engine ready ($(docker version --format '{{.Server.Version}}'))"; exit 0; }

# --- 3. images --------------------------------------------------------------
applets="sh ash echo cat sleep ls wget nc httpd true false env printf test mkdir rm cp mv id hostname grep sed awk head tail wc date kill ps uname"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A root filesystem with busybox and its applets in /bin, users, and /tmp.
busybox_rootfs() { # dir
  local root=$1
  mkdir -p "$root/bin" "$root/etc" "$root/tmp"
  cp "$BUSYBOX" "$root/bin/busybox"
  for applet in $applets; do ln -sf busybox "$root/bin/$applet"; done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  chmod 1777 "$root/tmp"
}

import_rootfs() { # dir name change...
  local root=$1 name=$2; shift 2
  local changes=()
  for change in "$@"; do changes+=(-c "$change"); done
  tar -C "$root" -c . | docker import "${changes[@]}" - "$name" >/dev/null
  log "imported $name"
}

if ! docker image inspect local/busybox:latest >/dev/null 2>&1; then
  busybox_rootfs "$tmp/busybox"
  import_rootfs "$tmp/busybox" local/busybox:latest 'ENV PATH=/bin' 'CMD ["sh"]'
fi

if ! docker image inspect local/node:20 >/dev/null 2>&1; then
  node_bin=$(readlink -f "$(command -v node)")
  root=$tmp/node
  busybox_rootfs "$root"
  mkdir -p "$root/usr/bin" "$root/app"
  cp "$node_bin" "$root/usr/bin/node"
  # The dynamic loader and every library node links, at the same paths.
  for lib in $(ldd "$node_bin" | grep -o '/[^ ]*'); do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
  import_rootfs "$root" local/node:20 'ENV PATH=/usr/bin:/bin' 'WORKDIR /app' 'CMD ["node"]'
fi

# The examples name public images (node:20, busybox:1.36) so they run on a
# user's machine with a registry; here those names point at the local images.
alias_image() { # local-image public-name
  if ! docker image inspect "$2" >/dev/null 2>&1; then
    docker tag "$1" "$2"
    log "tagged $1 as $2"
  fi
}
alias_image local/node:20 node:20
alias_image local/busybox:latest busybox:1.36

log "ready: Docker $(docker version --format '{{.Server.Version}}') with local/busybox:latest (busybox:1.36), local/node:20 (node:20)"
