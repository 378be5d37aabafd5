#!/usr/bin/env bash
# Assembles a root filesystem for the shadow agent without Docker, for the local test cluster:
#   /usr/local/bin/node   the pinned Node binary (scripts/ensure-node.sh's cache)
#   its shared libraries and dynamic loader, as ldd reports them
#   /etc/passwd, /etc/group (nobody = 65534, the pod's runAsUser), /etc/nsswitch.conf, /tmp
#   /agent.mjs            the esbuild bundle (npm run build)
# Entrypoint: /usr/local/bin/node /agent.mjs (image.sh sets it). Ends with a chroot smoke test so a
# missing library or a broken bundle fails here, not in the cluster.
#
#   usage: build-rootfs.sh OUT_DIR
set -euo pipefail

out=${1:?usage: build-rootfs.sh OUT_DIR}
pkg=$(cd "$(dirname "$0")/.." && pwd)
repo=$(cd "$pkg/../.." && pwd)
bundle=$pkg/dist/agent.mjs
[[ -f "$bundle" ]] || { echo "build-rootfs: $bundle is missing; run 'npm run build' first" >&2; exit 1; }

node_bin="$("$repo/scripts/ensure-node.sh")/node"
mkdir -p "$out"/{usr/local/bin,etc,tmp,dev,proc,sys}
# mktemp -d makes 0700 directories; the agent runs as nobody and must traverse /.
chmod 755 "$out"
chmod 1777 "$out/tmp"
cp "$node_bin" "$out/usr/local/bin/node"
cp "$bundle" "$out/agent.mjs"

# Every library ldd lists (by its resolved path) plus the loader (the line without "=>").
while read -r lib; do
  [[ -n "$lib" ]] || continue
  mkdir -p "$out$(dirname "$lib")"
  cp -L "$lib" "$out$lib"
done < <(ldd "$node_bin" | awk '/=>/ { if ($3 ~ /^\//) print $3; next } $1 ~ /^\// { print $1 }')

cat > "$out/etc/passwd" <<'PASSWD'
root:x:0:0:root:/:/sbin/nologin
nobody:x:65534:65534:nobody:/tmp:/sbin/nologin
PASSWD
cat > "$out/etc/group" <<'GROUP'
root:x:0:
nogroup:x:65534:
GROUP
# glibc resolves through these; the kubelet mounts its own hosts/resolv.conf over the empty ones.
echo 'hosts: files dns' > "$out/etc/nsswitch.conf"
printf '127.0.0.1 localhost\n::1 localhost\n' > "$out/etc/hosts"
: > "$out/etc/resolv.conf"
: > "$out/etc/hostname"

# Smoke test: node starts, resolves a name through glibc, and the bundle loads far enough to read
# its configuration (without a key it must exit 1 naming KTX_AUTHORIZED_KEY).
chroot "$out" /usr/local/bin/node -e 1
chroot "$out" /usr/local/bin/node -e "require('node:dns').lookup('localhost', (e) => process.exit(e ? 1 : 0))"
set +e
msg=$(env -i "$(command -v chroot)" --userspec=65534:65534 "$out" /usr/local/bin/node /agent.mjs 2>&1)
rc=$?
set -e
if [[ $rc -ne 1 || "$msg" != *KTX_AUTHORIZED_KEY* ]]; then
  echo "build-rootfs: the bundle did not start as expected in the chroot (exit $rc): $msg" >&2
  exit 1
fi
echo "build-rootfs: $out ready ($(du -sh "$out" | cut -f1))" >&2
