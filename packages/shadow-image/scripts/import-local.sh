#!/usr/bin/env bash
# Builds the shadow agent's image from the local bundle (no Docker, no registry) and imports it into
# the test cluster as $SHADOW_IMAGE. Run after `npm run build` and `npm run cluster:up`.
set -euo pipefail
pkg=$(cd "$(dirname "$0")/.." && pwd)
env_file=$pkg/../../test/.cluster/env
[ -f "$env_file" ] || { echo "import-local: $env_file is missing; run 'npm run cluster:up' first" >&2; exit 1; }
# shellcheck source=/dev/null
source "$env_file"
[ -f "$pkg/dist/agent.mjs" ] || { echo "import-local: $pkg/dist/agent.mjs is missing; run 'npm run build' first" >&2; exit 1; }
rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT
bash "$pkg/scripts/build-rootfs.sh" "$rootfs"
bash "$CLUSTER_ROOT/image.sh" "$SHADOW_IMAGE" "$rootfs" /usr/local/bin/node /agent.mjs
