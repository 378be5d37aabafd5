# The cluster's own images, built from local files and imported into containerd. Sourced by up.sh.
# shellcheck shell=bash

image_present() { ctr -a "$CONTAINERD_SOCK" -n k8s.io images ls -q | grep -x "$1" >/dev/null; }

import_rootfs() { # name rootfs entrypoint...
  image_present "$1" && return 0
  "$CLUSTER_ROOT/image.sh" "$@"
}

import_images() {
  local build
  build=$(mktemp -d)
  mkdir -p "$build/pause" "$build/busybox/bin" "$build/busybox/www" "$build/busybox/tmp" "$build/busybox/etc" "$build/coredns"

  gcc -Os -static -o "$build/pause/pause" "$CLUSTER_ROOT/images/pause.c"
  strip "$build/pause/pause"
  import_rootfs "$PAUSE_IMAGE" "$build/pause" /pause

  # Debian's busybox-static: httpd, nc, nslookup, wget with no shared libraries.
  cp /bin/busybox "$build/busybox/bin/busybox"
  local applet
  for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$build/busybox/bin/$applet"
  done
  echo "hello from busybox" >"$build/busybox/www/index.html"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$build/busybox/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$build/busybox/etc/group"
  import_rootfs "$BUSYBOX_IMAGE" "$build/busybox" /bin/sh

  cp "$COREDNS_BIN" "$build/coredns/coredns"
  import_rootfs "$COREDNS_IMAGE" "$build/coredns" /coredns
  rm -rf "$build"
}
