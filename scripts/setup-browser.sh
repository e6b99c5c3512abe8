#!/usr/bin/env bash
# Installs the browser test's Node packages (Playwright's driver, without its browsers: the test drives
# Debian's Chromium, which scripts/setup-debian.sh installs). Idempotent: runs `npm ci` only when
# tests/browser/node_modules is missing or was installed from another package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/../tests/browser"

stamp=node_modules/.dialtone-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
echo "installing the browser test's packages (npm ci in tests/browser)" >&2
# Playwright must never fetch browsers of its own.
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
echo "$want" >"$stamp"
