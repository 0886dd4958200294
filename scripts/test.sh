#!/usr/bin/env bash
# Runs every test of confab. On a fresh machine it installs what the tests need first
# (cargo-nextest; s3s-fs, an S3-compatible server; schemathesis and aiosmtpd, an SMTP server,
# in virtualenvs under target/; Node.js, the web client's npm packages and Debian's Chromium
# for its checks; PostgreSQL and Redis, which it also starts when they are not running).
# Usage: ./scripts/test.sh [extra nextest arguments]
#
# Passes: the whole workspace (store suite on SQLite and PostgreSQL, bus and presence suites
# in-process and on Redis, server tests on SQLite + in-process bus, fleet tests on PostgreSQL
# + Redis), then the server tests again on PostgreSQL + Redis (CONFAB_TEST_STACK).
set -euo pipefail
cd "$(dirname "$0")/.."
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is required (https://rustup.rs)" >&2
  exit 1
fi
if ! cargo nextest --version >/dev/null 2>&1; then
  echo "== installing cargo-nextest"
  cargo install cargo-nextest --locked
fi

./scripts/services.sh

# The S3 tests run a real S3-compatible server, s3s-fs, which checks SigV4 signatures as S3
# does. 0.14.1 is the newest that builds with Rust 1.95 (0.17 needs 1.96).
S3S_FS_VERSION=0.14.1
if ! s3s-fs --version 2>/dev/null | grep -q "$S3S_FS_VERSION"; then
  echo "== installing s3s-fs $S3S_FS_VERSION"
  cargo install s3s-fs --version "$S3S_FS_VERSION" --features binary --locked
fi

# The contract test (crates/confab/tests/server/contract.rs) runs schemathesis from PATH.
SCHEMATHESIS_VERSION=4.32.5
venv=target/schemathesis-venv
if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  echo "== installing schemathesis $SCHEMATHESIS_VERSION into $venv"
  if ! python3 -m venv --help >/dev/null 2>&1; then
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv >/dev/null
  fi
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
export PATH="$PWD/$venv/bin:$PATH"

# The email tests (crates/confab-notify/tests/sinks/email.rs) run a real SMTP server, aiosmtpd,
# through confab-testkit's SmtpServer, with the python that CONFAB_TEST_PYTHON names.
AIOSMTPD_VERSION=1.4.6
smtp_venv=target/smtp-venv
if ! "$smtp_venv/bin/python3" -c "import aiosmtpd, sys; sys.exit(aiosmtpd.__version__ != '$AIOSMTPD_VERSION')" 2>/dev/null; then
  echo "== installing aiosmtpd $AIOSMTPD_VERSION into $smtp_venv"
  rm -rf "$smtp_venv"
  python3 -m venv "$smtp_venv"
  "$smtp_venv/bin/pip" install --quiet --disable-pip-version-check "aiosmtpd==$AIOSMTPD_VERSION"
fi
export CONFAB_TEST_PYTHON="$PWD/$smtp_venv/bin/python3"

# The web client's checks need Node.js (for tsc and playwright-core) and Chromium.
web_missing=()
command -v node >/dev/null 2>&1 || web_missing+=(nodejs npm)
[ -x /usr/bin/chromium ] || web_missing+=(chromium)
# Emoji in the screenshots, as users' systems show them.
dpkg -s fonts-noto-color-emoji >/dev/null 2>&1 || web_missing+=(fonts-noto-color-emoji)
if [ ${#web_missing[@]} -gt 0 ]; then
  echo "== installing ${web_missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${web_missing[@]}" >/dev/null
fi
(cd crates/confab-web/web && npm ci --no-audit --no-fund --silent)

echo "== web client: tsc --checkJs"
(cd crates/confab-web/web && npx tsc -p .)

echo "== crate graph"
./scripts/check-graph.sh

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

echo "== web client: browser tests (screenshots in target/screenshots/)"
(cd crates/confab-web/web && CONFAB_BIN="$PWD/../../../target/debug/confab" \
  node --test --test-concurrency=1 tests/)
