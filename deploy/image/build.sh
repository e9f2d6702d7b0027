#!/usr/bin/env bash
# Builds Orrery's container image without a Docker engine: a Debian base made from Debian's own
# packages (mmdebstrap: the C and C++ runtimes, unpacked), Node.js of the supported LTS from the npm registry's Node builds, and the
# package's production files, assembled with buildah. Runs as uid 1000, needs nothing writable.
#
#   deploy/image/build.sh                    builds ghcr.io/orrery-dev/orrery:<package version>
#   ORRERY_IMAGE=registry.example.com/orrery deploy/image/build.sh
#   ORRERY_PUSH=1 deploy/image/build.sh      builds, then pushes (buildah login to the registry first)
#
# It writes the image it built into deploy/kustomization.yaml and deploy/member/agent/ (images: newName, newTag).
set -euo pipefail
cd "$(dirname "$0")/../.."

VERSION="$(node -p 'require("./package.json").version')"
DEBIAN_SUITE="${ORRERY_DEBIAN_SUITE:-bookworm}"
NAME="${ORRERY_IMAGE:-ghcr.io/orrery-dev/orrery}"
IMAGE="$NAME:$VERSION"
CACHE="${ORRERY_CACHE:-$HOME/.cache/orrery}/image"
BUILDAH=(buildah ${ORRERY_BUILDAH_ARGS:-})
mkdir -p "$CACHE"

say() { echo "[image] $*" >&2; }

# The base: the files of Debian's C and C++ runtime packages, which Node links against, unpacked
# (no package manager, no shell: nothing in the image runs but Node).
base="$CACHE/debian-$DEBIAN_SUITE-runtime.tar"
if [[ ! -s "$base" ]]; then
  say "making the Debian $DEBIAN_SUITE base from Debian's packages"
  mmdebstrap --quiet --format=tar --variant=extract --include=base-files,libc6,libstdc++6,libgcc-s1,netbase "$DEBIAN_SUITE" "$base.part"
  mv "$base.part" "$base"
fi

# Node.js, the official Linux build as the npm registry publishes it.
node="$(deploy/image/fetch-node.sh)"

# The application: what `npm pack` ships, with its production dependencies.
say "building Orrery $VERSION"
npm run --silent build
app="$(mktemp -d)"
trap 'rm -rf "$app"' EXIT
npm pack --silent --ignore-scripts --pack-destination "$app" >/dev/null
tar -xzf "$app"/orrery-"$VERSION".tgz -C "$app"
cp package-lock.json "$app/package/"
(cd "$app/package" && npm ci --silent --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline)

say "assembling $IMAGE"
ctr="$("${BUILDAH[@]}" from --name "orrery-build-$$" scratch)"
cleanup() { "${BUILDAH[@]}" rm "$ctr" >/dev/null 2>&1 || true; rm -rf "$app"; }
trap cleanup EXIT
root="$("${BUILDAH[@]}" mount "$ctr")"
tar -xf "$base" -C "$root"
install -D -m 0755 "$node" "$root/usr/local/bin/node"
mkdir -p "$root/app"
cp -a "$app/package/." "$root/app/"
rm -f "$root/app/package-lock.json"
printf '%s\n' 'root:x:0:0:root:/root:/usr/sbin/nologin' 'orrery:x:1000:1000:Orrery:/app:/usr/sbin/nologin' 'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin' >"$root/etc/passwd"
printf '%s\n' 'root:x:0:' 'orrery:x:1000:' 'nogroup:x:65534:' >"$root/etc/group"
"${BUILDAH[@]}" umount "$ctr" >/dev/null
"${BUILDAH[@]}" config \
  --user 1000:1000 \
  --workingdir /app \
  --env NODE_ENV=production \
  --port 8080 \
  --entrypoint '["/usr/local/bin/node", "/app/dist/src/cli/main.js"]' \
  --cmd '["serve", "--fleet", "examples/fleet.yaml", "--placements", "examples/placements.yaml"]' \
  --label org.opencontainers.image.title=orrery \
  --label org.opencontainers.image.version="$VERSION" \
  --label org.opencontainers.image.licenses=Apache-2.0 \
  --label org.opencontainers.image.description="Multi-cluster workload placement scheduler for Kubernetes fleets" \
  "$ctr"
"${BUILDAH[@]}" commit --quiet "$ctr" "$IMAGE" >/dev/null
say "built $IMAGE"

# The manifests name what was built.
sed -i -E "s#^(    newName: ).*#\1$NAME#; s#^(    newTag: ).*#\1$VERSION#" deploy/kustomization.yaml deploy/member/agent/kustomization.yaml

if [[ "${ORRERY_PUSH:-}" == 1 ]]; then
  say "pushing $IMAGE"
  "${BUILDAH[@]}" push "$IMAGE"
fi
echo "$IMAGE"
