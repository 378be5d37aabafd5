#!/usr/bin/env bash
# Turns a root filesystem directory into an image and imports it into the test cluster's containerd.
# usage: image.sh NAME:TAG ROOTFS_DIR [ENTRYPOINT ARG...]
# Other packages (the shadow agent) use this; NAME should carry a `localhost/` domain and a non-latest tag,
# and pods should use `imagePullPolicy: IfNotPresent`, since nothing can be pulled here.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/common.sh"
[ $# -ge 2 ] || die "usage: image.sh NAME:TAG ROOTFS_DIR [ENTRYPOINT ARG...]"
name=$1 rootfs=$2
shift 2
[ -d "$rootfs" ] || die "root filesystem $rootfs is not a directory"
[ -S "$CONTAINERD_SOCK" ] || die "containerd is not running ($CONTAINERD_SOCK missing); run 'npm run cluster:up' first"
archive=$(mktemp --suffix=.tar)
trap 'rm -f "$archive"' EXIT
entrypoint=()
[ $# -gt 0 ] && entrypoint=(--entrypoint "$@")
python3 "$here/lib/oci_archive.py" "$name" "$rootfs" "$archive" "${entrypoint[@]}"
ctr -a "$CONTAINERD_SOCK" -n k8s.io images import --all-platforms "$archive" >/dev/null
ctr -a "$CONTAINERD_SOCK" -n k8s.io images ls -q | grep -x "$name" >/dev/null || die "image $name was not found in containerd after import"
log "imported $name"
