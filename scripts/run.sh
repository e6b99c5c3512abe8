#!/usr/bin/env bash
# Builds Dialtone in release and runs it on embedded defaults (no cloud keys). Today that is the media
# core on a simulated call over a bad network; later issues make this start `dialtone serve`.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup-debian.sh
cargo build --release --locked
exec target/release/dialtone simulate --lossy "$@"
