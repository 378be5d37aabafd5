#!/usr/bin/env bash
# Installs the pinned Node.js (from the npm registry package node-linux-<arch>, which ships bin/node)
# into a machine-wide cache and prints the bin dir to put first on PATH.
#
#   export PATH="$(scripts/ensure-node.sh):$PATH"
#
# Idempotent: a complete install is detected by a marker file written last, so an interrupted run
# is redone rather than trusted. KTX_CACHE overrides /var/cache/ktx; KTX_NODE_VERSION the version.
set -euo pipefail

version="${KTX_NODE_VERSION:-24.21.0}"
cache="${KTX_CACHE:-/var/cache/ktx}"
dest="$cache/node/$version"

case "$(uname -m)" in
  x86_64 | amd64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "ensure-node: unsupported architecture $(uname -m)" >&2; exit 1 ;;
esac

if [[ -f "$dest/.complete" && -x "$dest/bin/node" ]]; then
  echo "$dest/bin"
  exit 0
fi

mkdir -p "$cache/node"
work="$(mktemp -d "$cache/node/.tmp-$version-XXXXXX")"
trap 'rm -rf "$work"' EXIT

# npm pack fetches through the configured registry and checks the tarball's integrity for us.
# stdout must stay clean (it is the result), so npm's chatter goes to stderr.
(cd "$work" && npm pack --silent "node-linux-$arch@$version" >/dev/null)
tarball="$(ls "$work"/node-linux-"$arch"-*.tgz)"
mkdir "$work/pkg"
tar -xzf "$tarball" -C "$work/pkg" --strip-components=1
chmod +x "$work/pkg/bin/node"

got="$("$work/pkg/bin/node" --version)"
if [[ "$got" != "v$version" ]]; then
  echo "ensure-node: expected v$version, the package's binary says $got" >&2
  exit 1
fi
touch "$work/pkg/.complete"

# Replace a leftover without its marker (an interrupted earlier run); mv keeps the swap short.
rm -rf "$dest.old"
if [[ -e "$dest" ]]; then mv "$dest" "$dest.old"; fi
mv "$work/pkg" "$dest"
rm -rf "$dest.old"
echo "$dest/bin"
