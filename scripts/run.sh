#!/usr/bin/env bash
# Builds Dialtone in release and runs it on embedded defaults (no cloud keys): installs the Debian packages
# and the speech models it needs, then starts `dialtone serve` with the agents in ./agents (a demo dental
# practice). Call it from another terminal with the line it prints. Extra arguments go to `serve`.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup-debian.sh
cargo build --release --locked
target/release/dialtone models install
exec target/release/dialtone serve "$@"
