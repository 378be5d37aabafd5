# The clients and servers the e2e suites run (grpcurl, ktx-testserver and its image, wrk, dnsperf).
# Sourced by tools.sh and up.sh; every step is skipped when its result is already there.
# shellcheck shell=bash

TESTSERVER_SRC=$CLUSTER_ROOT/testserver

# A cache entry counts only once its `.complete` marker exists: the marker is written last, inside
# the temporary directory, which is then renamed into place, so an interrupted build never looks done.
cache_complete() { [ -f "$1/.complete" ]; }
cache_commit() { # tmp-dir final-dir
  touch "$1/.complete"
  rm -rf "$2" && mv "$1" "$2"
}

install_test_packages() {
  local needed=() cmd pkg
  for entry in wrk:wrk dnsperf:dnsperf; do
    cmd=${entry%%:*} pkg=${entry#*:}
    command -v "$cmd" >/dev/null || needed+=("$pkg")
  done
  [ ${#needed[@]} -eq 0 ] && return 0
  log "installing from Debian: ${needed[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${needed[@]}" >/dev/null
}

build_grpcurl() {
  local dir=${GRPCURL%/*}
  cache_complete "$dir" && return 0
  require_go
  rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
  GOBIN="$dir.tmp" go install -trimpath -ldflags="-s -w -X main.version=$GRPCURL_VERSION" \
    "github.com/fullstorydev/grpcurl/cmd/grpcurl@$GRPCURL_VERSION"
  "$dir.tmp/grpcurl" -version 2>&1 | grep -q "$GRPCURL_VERSION" || die "the grpcurl built does not report $GRPCURL_VERSION"
  cache_commit "$dir.tmp" "$dir"
}

# The test server's cache key: a hash of its module's sources, so any change to them rebuilds it.
testserver_hash() {
  (cd "$TESTSERVER_SRC" && find . -type f \( -name '*.go' -o -name go.mod -o -name go.sum \) ! -name '*_test.go' -print0 |
    sort -z | xargs -0 sha256sum) |
    sha256sum | cut -c1-12
}

testserver_bin() { echo "$KTX_CACHE/testserver/$(testserver_hash)/ktx-testserver"; }

# The image also carries grpcurl and busybox (a shell, `timeout`), so its tag covers their versions too.
testserver_image() {
  local key
  key=$({ testserver_hash; echo "$GRPCURL_VERSION"; sha256sum </bin/busybox; } | sha256sum | cut -c1-12)
  echo "localhost/ktx-testserver:$key"
}

build_testserver() {
  local bin dir
  bin=$(testserver_bin)
  dir=${bin%/*}
  cache_complete "$dir" && return 0
  require_go
  rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
  (cd "$TESTSERVER_SRC" && go build -trimpath -ldflags='-s -w' -o "$dir.tmp/ktx-testserver" .)
  "$dir.tmp/ktx-testserver" version >/dev/null || die "the ktx-testserver built does not run"
  cache_commit "$dir.tmp" "$dir"
}

import_testserver_image() {
  local image rootfs applet
  image=$(testserver_image)
  ctr -a "$CONTAINERD_SOCK" -n k8s.io images ls -q | grep -x "$image" >/dev/null && return 0
  rootfs=$(mktemp -d)
  mkdir -p "$rootfs/usr/local/bin" "$rootfs/bin" "$rootfs/tmp" "$rootfs/etc"
  cp "$(testserver_bin)" "$GRPCURL" "$rootfs/usr/local/bin/"
  cp /bin/busybox "$rootfs/bin/busybox"
  for applet in sh timeout sleep cat; do ln -sf busybox "$rootfs/bin/$applet"; done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
  "$CLUSTER_ROOT/image.sh" "$image" "$rootfs" /usr/local/bin/ktx-testserver
  rm -rf "$rootfs"
}

# The lines these tools add to test/.cluster/env.
test_tools_env() {
  echo "GRPCURL=$GRPCURL"
  echo "TESTSERVER=$(testserver_bin)"
  echo "TESTSERVER_IMAGE=$(testserver_image)"
}
