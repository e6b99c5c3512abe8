#!/usr/bin/env bash
# Measures end of speech -> first agent audio with the embedded engines on a release build: one call to
# the demo agent, 22 questions, and the per-stage table of `dialtone latency` (extra arguments go to it).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet
exec target/release/dialtone latency "$@"
