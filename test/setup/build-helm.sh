#!/usr/bin/env bash
# Builds Helm from the Go module proxy, once per version, outside the clone: the chart's tests
# render and install deploy/helm/orrery with it.
set -euo pipefail
HELM_VERSION="${ORRERY_HELM_VERSION:-4.3.2}"
DIR="${ORRERY_CACHE:-$HOME/.cache/orrery}/helm-v$HELM_VERSION"
if [[ -x "$DIR/helm" ]]; then
  exit 0
fi
mkdir -p "$DIR"
exec 9>"$DIR.lock"
flock 9
if [[ -x "$DIR/helm" ]]; then exit 0; fi
echo "[helm] building helm v$HELM_VERSION from the Go module proxy (a few minutes, once)" >&2
log="$(mktemp)"
if ! GOBIN="$DIR.part" go install "helm.sh/helm/v4/cmd/helm@v$HELM_VERSION" >"$log" 2>&1; then
  tail -n 30 "$log" >&2
  echo "[helm] could not build helm: see the lines above" >&2
  exit 1
fi
mv "$DIR.part/helm" "$DIR/helm"
rm -rf "$DIR.part" "$log"
