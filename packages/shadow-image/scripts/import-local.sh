#!/usr/bin/env bash
# Builds the shadow agent's image from the local bundle with `ktx image build` (no Docker, no
# registry; the pinned Node binary of scripts/ensure-node.sh) and imports it into the test
# cluster's containerd as $SHADOW_IMAGE. Run after `npm run build` and `npm run cluster:up`.
set -euo pipefail
pkg=$(cd "$(dirname "$0")/.." && pwd)
repo=$(cd "$pkg/../.." && pwd)
env_file=$repo/test/.cluster/env
[ -f "$env_file" ] || { echo "import-local: $env_file is missing; run 'npm run cluster:up' first" >&2; exit 1; }
# shellcheck source=/dev/null
source "$env_file"
[ -f "$pkg/dist/agent.mjs" ] || { echo "import-local: $pkg/dist/agent.mjs is missing; run 'npm run build' first" >&2; exit 1; }
sock=${CONTAINERD_SOCK:-/run/containerd/containerd.sock}
[ -S "$sock" ] || { echo "import-local: containerd is not running ($sock missing); run 'npm run cluster:up' first" >&2; exit 1; }
node_bin="$("$repo/scripts/ensure-node.sh")/node"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$node_bin" "$repo/packages/cli/bin/run.js" image build --node "$node_bin" --bundle "$pkg/dist/agent.mjs" \
  --tag "$SHADOW_IMAGE" --output "$work/image.tar" >&2
ctr -a "$sock" -n k8s.io images import --all-platforms "$work/image.tar" >/dev/null
# Listed to a file first: `grep -q` stops reading at the match, and with pipefail the listing's
# SIGPIPE would turn a found image into a failure once the list is long.
ctr -a "$sock" -n k8s.io images ls -q >"$work/images"
grep -qx "$SHADOW_IMAGE" "$work/images" || {
  echo "import-local: $SHADOW_IMAGE was not found in containerd after import" >&2
  exit 1
}
echo "import-local: imported $SHADOW_IMAGE" >&2
