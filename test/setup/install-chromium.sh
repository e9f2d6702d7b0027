#!/usr/bin/env bash
# Installs Debian's Chromium for the web view's browser tests, once. Playwright drives it as it
# is (playwright-core, pointed at this binary): no browser is downloaded.
set -euo pipefail

BROWSER="${ORRERY_CHROMIUM:-/usr/bin/chromium}"
if [[ -x "$BROWSER" ]]; then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  cat >&2 <<MSG
The web view's tests run a real headless Chromium, and $BROWSER is not there. Install your
distribution's chromium package, or set ORRERY_CHROMIUM to a Chromium or Chrome binary, and run
npm test again.
MSG
  exit 1
fi

SUDO=""
if [[ "$(id -u)" != 0 ]]; then SUDO="sudo -n"; fi
# One install at a time, whoever asks first.
exec 9>"${TMPDIR:-/tmp}/orrery-chromium.lock"
flock 9
if [[ -x "$BROWSER" ]]; then exit 0; fi
echo "[browser] installing Debian's chromium package" >&2
log="$(mktemp)"
if ! { $SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends chromium; } >"$log" 2>&1; then
  tail -n 30 "$log" >&2
  echo "[browser] could not install chromium: see the lines above" >&2
  exit 1
fi
rm -f "$log"
