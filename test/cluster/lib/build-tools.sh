#!/usr/bin/env bash
# Builds the small Go tools the test cluster and ktx need (CoreDNS, tun2socks) into the version-keyed cache.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"

build_coredns() {
  local dir=$KTX_CACHE/coredns/$COREDNS_VERSION
  [ -x "$dir/coredns" ] && return 0
  require_go
  rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
  GOBIN="$dir.tmp" go install -trimpath -ldflags='-s -w' "github.com/coredns/coredns@$COREDNS_VERSION"
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
}

build_tun2socks() {
  local dir=$KTX_CACHE/tun2socks/$TUN2SOCKS_VERSION module=github.com/xjasonlyu/tun2socks/v2
  [ -x "$dir/tun2socks" ] && return 0
  require_go
  grep -q "$module $TUN2SOCKS_VERSION" "$here/../tun2socks-wrapper/go.mod" ||
    die "test/cluster/tun2socks-wrapper/go.mod does not pin $module $TUN2SOCKS_VERSION; update it with 'go get $module@$TUN2SOCKS_VERSION' there"
  rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
  (cd "$here/../tun2socks-wrapper" &&
    go build -trimpath -o "$dir.tmp/tun2socks" \
      -ldflags "-s -w -X $module/internal/version.Version=$TUN2SOCKS_VERSION" "$module")
  "$dir.tmp/tun2socks" --version | grep -q "${TUN2SOCKS_VERSION#v}" || die "the tun2socks built does not report $TUN2SOCKS_VERSION"
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
}

build_coredns
build_tun2socks
