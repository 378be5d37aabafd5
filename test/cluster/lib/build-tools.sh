#!/usr/bin/env bash
# Builds the small Go tools the test cluster and ktx need (CoreDNS, tun2socks) into the version-keyed cache.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"

install_tool() { # name module version
  local dir="$KTX_CACHE/$1/$3"
  [ -x "$dir/$1" ] && return 0
  require_go
  mkdir -p "$dir.tmp"
  GOBIN="$dir.tmp" go install -trimpath -ldflags='-s -w' "$2@$3"
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
}
install_tool coredns github.com/coredns/coredns "$COREDNS_VERSION"
install_tool tun2socks github.com/xjasonlyu/tun2socks/v2 "$TUN2SOCKS_VERSION"
