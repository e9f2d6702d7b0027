#!/usr/bin/env bash
# Installs, once, the Debian packages the tests drive as users do: Chromium for the web view's
# browser tests (Playwright drives it as it is: no browser is downloaded), zsh for the shell
# completion's, curl and jq for the README's examples, and mmdebstrap, buildah, podman and runc to build and run the container image
# without a Docker engine. Only what is missing is installed.
set -euo pipefail

BROWSER="${ORRERY_CHROMIUM:-/usr/bin/chromium}"
missing() {
  local want=()
  [[ -x "$BROWSER" ]] || want+=(chromium)
  local tool
  for tool in zsh jq curl mmdebstrap buildah podman runc; do
    command -v "$tool" >/dev/null 2>&1 || want+=("$tool")
  done
  echo "${want[@]}"
}
if [[ -z "$(missing)" ]]; then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  cat >&2 <<MSG
The tests run a real headless Chromium, zsh, and build and run the image with mmdebstrap,
buildah, podman and runc; $(missing) is not there. Install your distribution's packages of
those names (or set ORRERY_CHROMIUM to a Chromium or Chrome binary), and run npm test again.
MSG
  exit 1
fi

SUDO=""
if [[ "$(id -u)" != 0 ]]; then SUDO="sudo -n"; fi
# One install at a time, whoever asks first.
exec 9>"${TMPDIR:-/tmp}/orrery-test-tools.lock"
flock 9
packages="$(missing)"
if [[ -z "$packages" ]]; then exit 0; fi
echo "[tools] installing Debian's packages: $packages" >&2
log="$(mktemp)"
# shellcheck disable=SC2086
if ! { $SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $packages; } >"$log" 2>&1; then
  tail -n 30 "$log" >&2
  echo "[tools] could not install $packages: see the lines above" >&2
  exit 1
fi
rm -f "$log"
