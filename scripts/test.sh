#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, the media crate's no-runtime rule, the speech
# models, a local PostgreSQL, then every test in the workspace (the end-to-end tests need the models and
# the store's tests need PostgreSQL: neither may skip).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup-debian.sh
# The dashboard's browser test drives Debian's Chromium with Playwright's driver; here it may not skip.
scripts/setup-browser.sh
export DIALTONE_REQUIRE_BROWSER=1

# The API store's tests run on SQLite and on PostgreSQL; here PostgreSQL is required, not skipped.
database_url=$(scripts/setup-postgres.sh | tail -n1)
export DIALTONE_TEST_DATABASE_URL=$database_url
export DIALTONE_REQUIRE_POSTGRES=1

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings

# The media core is sans-IO: no async runtime may creep into its dependency tree.
if cargo tree -p dialtone-media -e normal,build --prefix none | grep -Eq '^(tokio|async-std|smol) '; then
  echo "dialtone-media must not depend on an async runtime:" >&2
  cargo tree -p dialtone-media -i tokio >&2 || true
  exit 1
fi

cargo run --quiet --locked -- models install
DIALTONE_REQUIRE_MODELS=1 cargo test --workspace --locked
