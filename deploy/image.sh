#!/usr/bin/env bash
# The container image, built and run without a Docker daemon or a registry (docs/operations.md,
# "The container image"). Everything comes from Debian's own packages:
#   deploy/image.sh base    debootstrap a minimal bookworm and import it as debian:12 and
#                           debian:bookworm-slim (the Dockerfile's two FROM lines)
#   deploy/image.sh build   the Dockerfile with buildah (chroot isolation, vfs storage), as
#                           streamgate:latest; makes the base first when it is missing
#   deploy/image.sh run     the image's entrypoint as its own user, on this machine's network;
#                           the environment's STREAMGATE_* ... see below
#   deploy/image.sh test    build, then start the container, get a token, run the image's
#                           HEALTHCHECK command and check the process's user (tests/image/)
#   deploy/image.sh fresh   a clean Debian 12 rootfs (the same base) in which install-deps.sh
#                           runs, then the browser test with Debian's own Node.js
#   deploy/image.sh clean   removes the images, the containers and the cached base
# Needs root (buildah with vfs storage, chroot). Installs buildah and debootstrap when missing.
# `run` passes every variable named in IMAGE_ENV (space-separated NAME=VALUE pairs) to the
# container, and the container's /app/data is IMAGE_DATA (a directory on this machine).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT_DIR=$(pwd)

CACHE=${IMAGE_CACHE:-/var/tmp/streamgate-image}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
IMAGE=${IMAGE_NAME:-localhost/streamgate:latest}
export STORAGE_DRIVER=vfs
export BUILDAH_ISOLATION=chroot
BUILDAH=(buildah --storage-driver vfs)

log() { echo "image: $*" >&2; }

need_tools() {
  local missing=()
  command -v buildah >/dev/null || missing+=(buildah)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
      >/dev/null
  fi
}

has_image() { "${BUILDAH[@]}" inspect --type image "$1" >/dev/null 2>&1; }

# A minimal bookworm with the same apt sources as Docker's debian:12 (main, updates, security).
make_rootfs() {
  local dir=$1
  if [ -f "$CACHE/rootfs.tar" ]; then
    mkdir -p "$dir"
    tar -C "$dir" -xf "$CACHE/rootfs.tar"
    return
  fi
  mkdir -p "$CACHE"
  local tmp
  tmp=$(mktemp -d "$CACHE/debootstrap.XXXXXX")
  log "debootstrap --variant=minbase bookworm (once; cached in $CACHE)"
  debootstrap --variant=minbase bookworm "$tmp" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 ||
    { tail -20 "$CACHE/debootstrap.log" >&2; rm -rf "$tmp"; return 1; }
  cat >"$tmp/etc/apt/sources.list" <<EOF
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb ${MIRROR%/debian}/debian-security bookworm-security main
EOF
  # As Docker's Debian images: no documentation or package lists kept in the image.
  rm -rf "$tmp"/var/lib/apt/lists/* "$tmp"/var/cache/apt/archives/*.deb
  tar -C "$tmp" -cf "$CACHE/rootfs.tar.part" . && mv "$CACHE/rootfs.tar.part" "$CACHE/rootfs.tar"
  rm -rf "$tmp"
  mkdir -p "$dir"
  tar -C "$dir" -xf "$CACHE/rootfs.tar"
}

cmd_base() {
  need_tools
  if has_image docker.io/library/debian:12 && has_image docker.io/library/debian:bookworm-slim; then
    log "base images present"
    return
  fi
  [ -f "$CACHE/rootfs.tar" ] || make_rootfs "$(mktemp -d)"
  local ctr
  ctr=$("${BUILDAH[@]}" from scratch)
  "${BUILDAH[@]}" add "$ctr" "$CACHE/rootfs.tar" / >/dev/null
  "${BUILDAH[@]}" config --cmd /bin/bash --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$ctr"
  "${BUILDAH[@]}" commit -q "$ctr" docker.io/library/debian:12 >/dev/null
  "${BUILDAH[@]}" rm "$ctr" >/dev/null
  "${BUILDAH[@]}" tag docker.io/library/debian:12 docker.io/library/debian:bookworm-slim
  log "base images: debian:12, debian:bookworm-slim ($(du -sh "$CACHE/rootfs.tar" | cut -f1) rootfs)"
}

cmd_build() {
  cmd_base
  local start=$SECONDS
  log "building $IMAGE from the Dockerfile (buildah, chroot isolation, vfs)"
  "${BUILDAH[@]}" build --pull=never --isolation chroot --layers --format docker -t "$IMAGE" \
    -f Dockerfile "$ROOT_DIR" >"$CACHE/build.log" 2>&1 ||
    { tail -40 "$CACHE/build.log" >&2; return 1; }
  local size
  size=$("${BUILDAH[@]}" inspect --type image --format '{{.Size}}' "$IMAGE" 2>/dev/null || echo 0)
  if [ "$size" = 0 ] || [ -z "$size" ]; then
    size=$("${BUILDAH[@]}" images --format '{{.Size}}' "$IMAGE" | head -1)
  fi
  log "built $IMAGE in $((SECONDS - start)) s; size $("${BUILDAH[@]}" images --format '{{.Size}}' "$IMAGE" | head -1)"
}

# Runs the image's entrypoint (or the given command) in a new working container on the host's
# network, as the image's user. Prints nothing of its own; the container's output is ours.
cmd_run() {
  has_image "$IMAGE" || cmd_build
  local env_args=() data=${IMAGE_DATA:-}
  RUN_CTR=$("${BUILDAH[@]}" from --pull=never "$IMAGE")
  trap '"${BUILDAH[@]}" rm "${RUN_CTR:-}" >/dev/null 2>&1 || true' EXIT
  local ctr=$RUN_CTR
  for kv in ${IMAGE_ENV:-}; do env_args+=(--env "$kv"); done
  local mounts=()
  [ -n "$data" ] && mounts+=(--volume "$data:/app/data")
  local user
  user=$("${BUILDAH[@]}" inspect --format '{{.OCIv1.Config.User}}' "$ctr")
  local entry=(/usr/local/bin/streamgate)
  if [ "$#" -gt 0 ]; then entry=("$@"); fi
  "${BUILDAH[@]}" run --isolation chroot --network host --user "$user" "${env_args[@]}" \
    "${mounts[@]}" --workingdir /app "$ctr" -- "${entry[@]}"
}

cmd_test() {
  cmd_build
  bash tests/image/test.sh "$0"
}

# A clean Debian 12 in a chroot: the project's install step, then the browser test with the Node.js
# that step installs (Debian's own on a plain Debian 12).
cmd_fresh() {
  need_tools
  local binary=${1:-build/dev/streamgate}
  [ -x "$binary" ] || { log "fresh: needs a built streamgate (default build/dev/streamgate)"; return 2; }
  FRESH_ROOT=$(mktemp -d /var/tmp/streamgate-fresh.XXXXXX)
  FRESH_MOUNTS=()
  local root=$FRESH_ROOT
  cleanup_fresh() {
    for m in "${FRESH_MOUNTS[@]}"; do umount -l "$m" 2>/dev/null || true; done
    rm -rf --one-file-system "${FRESH_ROOT:?}"
  }
  trap cleanup_fresh EXIT
  make_rootfs "$root"
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  # This machine's network setup, not the project's: the CAs it trusts (a TLS-inspecting egress
  # may have its own) and its npm client settings, as any machine on this network has them.
  mkdir -p "$root/usr/local/share/ca-certificates"
  cp -a /usr/local/share/ca-certificates/. "$root/usr/local/share/ca-certificates/" 2>/dev/null || true
  [ -f /etc/npmrc ] && cp /etc/npmrc "$root/etc/npmrc"
  for fs in proc sys dev dev/pts dev/shm; do
    mkdir -p "$root/$fs"
    mount --bind "/$fs" "$root/$fs"
    FRESH_MOUNTS=("$root/$fs" "${FRESH_MOUNTS[@]}")
  done
  mkdir -p "$root/src"
  git -C "$ROOT_DIR" ls-files -z | (cd "$ROOT_DIR" && xargs -0 cp --parents -t "$root/src")
  mkdir -p "$root/src/build/dev"
  cp "$binary" "$root/src/build/dev/streamgate"
  log "fresh: install-deps.sh in a clean Debian 12"
  chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root CI=true bash -c 'cd /src && bash deploy/install-deps.sh &&
      update-ca-certificates >/dev/null &&
      echo "fresh: Node.js $(node --version), npm $(npm --version)" &&
      bash tests/browser/run.sh build/dev/streamgate && echo "fresh: 1 passed, 0 failed"'
}

cmd_clean() {
  "${BUILDAH[@]}" rm --all >/dev/null 2>&1 || true
  for i in "$IMAGE" docker.io/library/debian:bookworm-slim docker.io/library/debian:12; do
    "${BUILDAH[@]}" rmi -f "$i" >/dev/null 2>&1 || true
  done
  rm -rf "$CACHE"
}

case "${1:-}" in
  base) cmd_base ;;
  build) cmd_build ;;
  run) shift; cmd_run "$@" ;;
  test) cmd_test ;;
  fresh) shift; cmd_fresh "$@" ;;
  clean) cmd_clean ;;
  *) echo "usage: deploy/image.sh base|build|run [CMD...]|test|fresh [BINARY]|clean" >&2; exit 2 ;;
esac
