#!/usr/bin/env bash
# Runs every test of confab. On a fresh machine it installs what the tests need first
# (cargo-nextest; PostgreSQL and Redis, which it also starts when they are not running).
# Usage: ./scripts/test.sh [extra nextest arguments]
#
# Passes: the whole workspace (store suite on SQLite and PostgreSQL, bus and presence suites
# in-process and on Redis, server tests on SQLite + in-process bus, fleet tests on PostgreSQL
# + Redis), then the server tests again on PostgreSQL + Redis (CONFAB_TEST_STACK).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is required (https://rustup.rs)" >&2
  exit 1
fi
if ! cargo nextest --version >/dev/null 2>&1; then
  echo "== installing cargo-nextest"
  cargo install cargo-nextest --locked
fi

./scripts/services.sh

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== tests"
profile=default
if [ "${CI:-}" = "true" ]; then profile=ci; fi
cargo nextest run --workspace --locked --profile "$profile" "$@"

echo "== server tests again, on PostgreSQL and Redis"
CONFAB_TEST_STACK=postgres-redis \
  cargo nextest run -p confab --test server --locked --profile "$profile" "$@"
