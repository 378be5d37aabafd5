#!/usr/bin/env bash
# Builds the Kubernetes components from the Go module proxy into a machine-wide cache keyed by version.
# k8s.io/kubernetes cannot be `go install`ed (its go.mod replaces staging modules with local paths), so a
# small wrapper module requires it and replaces every staging module with its published v0.x twin.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"

out="$KTX_CACHE/k8s/$K8S_VERSION"
bins=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)
all_present() { for b in "${bins[@]}"; do [ -x "$out/$b" ] || return 1; done; }
if all_present; then exit 0; fi

require_go
staging="v0.${K8S_VERSION#v1.}"
minor=$(cut -d. -f2 <<<"$K8S_VERSION")
work="$KTX_CACHE/build/k8s-wrapper-$K8S_VERSION"
mkdir -p "$work" "$out.tmp"
cp "$here/../k8s-wrapper/tools.go" "$work/"
cd "$work"
if [ -f "$here/../k8s-wrapper/go.mod" ] && grep -q "k8s.io/kubernetes $K8S_VERSION" "$here/../k8s-wrapper/go.mod"; then
  cp "$here/../k8s-wrapper/go.mod" "$here/../k8s-wrapper/go.sum" "$work/"
else
  printf 'module ktx.dev/k8sbin\n\ngo 1.24.0\n\ngodebug default=go1.24\n\nrequire k8s.io/kubernetes %s\n' "$K8S_VERSION" > go.mod
  upstream=$(cd /tmp && go mod download -json "k8s.io/kubernetes@$K8S_VERSION" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')
  for m in $(sed -n 's#^[[:space:]]*\(k8s\.io/[^[:space:]]*\)[[:space:]]*=>[[:space:]]*\./staging/.*#\1#p' "$upstream"); do
    go mod edit -replace="$m=$m@$staging"
  done
  if grep -n '=>' "$upstream" | grep -v '\./staging/'; then
    die "upstream go.mod of k8s.io/kubernetes $K8S_VERSION has non-staging replaces; copy them into the wrapper"
  fi
  go mod tidy
  cp go.mod go.sum "$here/../k8s-wrapper/"
fi

ldflags="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  ldflags+=" -X $p.gitCommit=0000000000000000000000000000000000000000 -X $p.buildDate=2000-01-01T00:00:00Z"
done
pkgs=()
for b in "${bins[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$b"); done
go build -p "$(nproc)" -trimpath -buildvcs=false -ldflags "$ldflags" -o "$out.tmp/" "${pkgs[@]}"
"$out.tmp/kube-apiserver" --version
rm -rf "$out" && mv "$out.tmp" "$out"
