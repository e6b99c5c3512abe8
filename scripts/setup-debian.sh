#!/usr/bin/env bash
# Installs the Debian packages Dialtone builds and tests against. Idempotent: does nothing when they are
# all present. Runs apt-get as root, or through sudo.
set -euo pipefail

packages=(
  build-essential # cc for libfvad (webrtc-vad)
  pkg-config      # finds libopus
  libopus-dev     # Opus codec
  cmake           # builds whisper.cpp (whisper-rs-sys)
  libclang-dev    # bindgen for whisper-rs-sys
  espeak-ng       # speaks test sentences for the speech recogniser tests
  flite           # the embedded agent voice (run as a program)
  tzdata          # the IANA time zones agents name (read from /usr/share/zoneinfo)
  libsqlite3-dev  # the API store's SQLite (sqlx links Debian's libsqlite3)
  sip-tester      # SIPp: the SIP scenario tests call agents with it
  baresip         # a real softphone for the SIP end-to-end test
  chromium        # the dashboard's browser test calls an agent over WebRTC from a real browser
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing Debian packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
