#!/usr/bin/env bash
# Enforces the crate graph ARCHITECTURE.md draws, from `cargo tree` (as Lemmy's CI does):
# each crate's confab-* dependencies are the ones its row allows; SQL's driver (sqlx) is a
# dependency of confab-store alone, and never reaches the gateway, the bus or the wire types;
# the core crate pulls in nothing that does I/O. Exits non-zero naming each broken rule.
set -euo pipefail
cd "$(dirname "$0")/.."

failed=0
fail() { echo "crate graph: $*" >&2; failed=1; }

# Direct normal (non-dev) dependencies of a crate, one name per line.
direct() { cargo tree -p "$1" -e normal --depth 1 --prefix none --format '{p}' --locked | tail -n +2 | awk '{print $1}' | sort -u; }
# Every normal dependency of a crate, transitively.
closure() { cargo tree -p "$1" -e normal --prefix none --format '{p}' --locked | awk '{print $1}' | sort -u; }

# The confab-* crates each crate may use directly (ARCHITECTURE.md, "Code map").
declare -A allowed=(
  [confab-core]=""
  [confab-store]="confab-core"
  [confab-bus]="confab-core"
  [confab-protocol]="confab-core"
  [confab-blob]="confab-core"
  [confab-notify]="confab-core"
  [confab-chat]="confab-core confab-store confab-bus confab-blob confab-notify"
  [confab-api]="confab-core confab-chat confab-protocol"
  [confab-gateway]="confab-core confab-bus confab-protocol"
  [confab]="confab-core confab-store confab-bus confab-blob confab-notify confab-protocol confab-chat confab-api confab-gateway confab-web"
  [confab-bench]="confab-protocol confab-testkit"
  [confab-testkit]=""
  [confab-web]=""
)
for crate in "${!allowed[@]}"; do
  deps=$(direct "$crate")
  for dep in $(grep '^confab' <<<"$deps" || true); do
    [[ " ${allowed[$crate]} " == *" $dep "* ]] || fail "$crate must not depend on $dep"
  done
  if [ "$crate" != confab-store ] && grep -qx sqlx <<<"$deps"; then
    fail "$crate depends on sqlx: SQL lives in confab-store only"
  fi
done

# Not even through another crate.
for crate in confab-core confab-bus confab-blob confab-notify confab-protocol confab-gateway confab-bench confab-testkit confab-web; do
  for banned in sqlx confab-store confab-chat; do
    if closure "$crate" | grep -qx "$banned"; then fail "$crate reaches $banned"; fi
  done
done
# The core crate does no I/O: no runtime, sockets, HTTP, database or Redis client.
for banned in tokio mio socket2 hyper axum reqwest redis sqlx; do
  if closure confab-core | grep -qx "$banned"; then fail "confab-core reaches $banned (I/O)"; fi
done

if [ "$failed" = 0 ]; then echo "crate graph: as ARCHITECTURE.md draws it"; fi
exit "$failed"
