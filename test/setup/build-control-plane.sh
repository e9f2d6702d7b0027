#!/usr/bin/env bash
# Builds the control-plane binaries the integration tests run — kube-apiserver,
# kube-controller-manager, kube-scheduler and etcd — from Go modules, and fetches the
# ServiceExport CRD from the mcs-api module. Everything lands in a cache outside the
# repository and is rebuilt only when a version changes.
set -euo pipefail

KUBE_VERSION="${ORRERY_KUBE_VERSION:-1.34.4}"
ETCD_VERSION="${ORRERY_ETCD_VERSION:-3.6.13}"
MCS_API_VERSION="${ORRERY_MCS_API_VERSION:-0.5.2}"
DEST="${ORRERY_ENVTEST_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/orrery/envtest/v${KUBE_VERSION}}"
STAMP="kube ${KUBE_VERSION} etcd ${ETCD_VERSION} mcs-api ${MCS_API_VERSION}"

if [[ -f "$DEST/.stamp" && "$(cat "$DEST/.stamp")" == "$STAMP" ]]; then
  exit 0
fi

# One build at a time: test files that start at once wait for the first build.
mkdir -p "$(dirname "$DEST")"
exec 9>"$DEST.lock"
flock 9
if [[ -f "$DEST/.stamp" && "$(cat "$DEST/.stamp")" == "$STAMP" ]]; then
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  cat >&2 <<MSG
The integration tests run real Kubernetes control planes built from Go modules, and Go is
not installed. Install Go 1.24 or newer (https://go.dev/doc/install, or the golang package
of your distribution), make sure 'go' is on PATH, and run npm test again.
MSG
  exit 1
fi

log() { printf '[control plane] %s\n' "$*" >&2; }

# Runs a long step with its output in a log (shown only if it fails) and a line every 30 s.
step() { # description command...
  local what="$1"; shift
  log "$what"
  local started=$SECONDS
  ( while sleep 30; do log "  ... still ${what} ($((SECONDS - started)) s)"; done ) &
  local beat=$!
  if ! "$@" > "$work/step.log" 2>&1; then
    kill "$beat" 2>/dev/null || true
    cat "$work/step.log" >&2
    log "failed: $what"
    exit 1
  fi
  kill "$beat" 2>/dev/null || true
}
log "building Kubernetes ${KUBE_VERSION} and etcd ${ETCD_VERSION} into ${DEST}"
log "the first build downloads and compiles a few hundred modules: expect 5 minutes or more"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$DEST"

# --- Kubernetes: one module that requires k8s.io/kubernetes and pins its staging modules ---
staging=(api apiextensions-apiserver apimachinery apiserver cli-runtime client-go cloud-provider
  cluster-bootstrap code-generator component-base component-helpers controller-manager cri-api
  cri-client csi-translation-lib dynamic-resource-allocation endpointslice externaljwt kms
  kube-aggregator kube-controller-manager kube-proxy kube-scheduler kubectl kubelet metrics
  mount-utils pod-security-admission sample-apiserver sample-cli-plugin sample-controller)
mkdir -p "$work/kube"
{
  echo "module orrery.dev/envtest/kube"
  echo
  echo "go 1.24"
  echo
  echo "require k8s.io/kubernetes v${KUBE_VERSION}"
  echo
  echo "replace ("
  for m in "${staging[@]}"; do echo "	k8s.io/${m} => k8s.io/${m} v0.${KUBE_VERSION#1.}"; done
  echo ")"
} > "$work/kube/go.mod"

main() { # dir import constructor
  mkdir -p "$work/kube/$1"
  cat > "$work/kube/$1/main.go" <<GO
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"$2"
)

func main() { os.Exit(cli.Run(app.$3())) }
GO
}
main kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver/app NewAPIServerCommand
main kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager/app NewControllerManagerCommand
main kube-scheduler k8s.io/kubernetes/cmd/kube-scheduler/app NewSchedulerCommand

ldflags="-s -w -X k8s.io/component-base/version.gitVersion=v${KUBE_VERSION} -X k8s.io/component-base/version.gitMajor=${KUBE_VERSION%%.*} -X k8s.io/component-base/version.gitMinor=$(echo "$KUBE_VERSION" | cut -d. -f2)"
(
  cd "$work/kube"
  step "downloading Kubernetes modules" go mod tidy
  for bin in kube-apiserver kube-controller-manager kube-scheduler; do
    step "compiling ${bin}" go build -trimpath -ldflags "$ldflags" -o "$DEST/$bin" "./$bin"
  done
)

# --- etcd ---
mkdir -p "$work/etcd"
cat > "$work/etcd/go.mod" <<MOD
module orrery.dev/envtest/etcd

go 1.24

require go.etcd.io/etcd/server/v3 v${ETCD_VERSION}
MOD
cat > "$work/etcd/main.go" <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
(
  cd "$work/etcd"
  step "downloading etcd modules" go mod tidy
  step "compiling etcd" go build -trimpath -ldflags "-s -w" -o "$DEST/etcd" .
)

# --- the ServiceExport CRD, as the mcs-api module ships it ---
log "fetching the ServiceExport CRD from sigs.k8s.io/mcs-api v${MCS_API_VERSION}"
mcs_dir="$(cd "$work/etcd" && go mod download -json "sigs.k8s.io/mcs-api@v${MCS_API_VERSION}" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
mkdir -p "$DEST/crds"
cp "$mcs_dir"/config/crd/*.yaml "$DEST/crds/"
chmod -R u+w "$DEST/crds"

echo "$STAMP" > "$DEST/.stamp"
log "done: $(ls "$DEST" | tr '\n' ' ')"
