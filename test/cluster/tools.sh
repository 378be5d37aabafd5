#!/usr/bin/env bash
# Builds and installs the clients and servers the e2e suites use, and records them in
# test/.cluster/env: grpcurl and ktx-testserver (host binaries, cached by version / source hash),
# the ktx-testserver image (imported into the running cluster's containerd), and Debian's wrk and
# dnsperf. up.sh runs it; run it alone (`bash test/cluster/tools.sh`) on a cluster that is already up.
# Every step is skipped when its result exists, so a second run takes about a second.
set -euo pipefail
CLUSTER_ROOT=$(cd "$(dirname "$0")" && pwd)
REPO_ROOT=$(cd "$CLUSTER_ROOT/../.." && pwd)
source "$CLUSTER_ROOT/lib/common.sh"
source "$CLUSTER_ROOT/lib/test-tools.sh"

require_linux_root
[ -S "$CONTAINERD_SOCK" ] ||
  die "containerd is not running ($CONTAINERD_SOCK missing); bring the cluster up with 'npm run cluster:up'"

# Replaces (or adds) this script's keys in an existing env file; up.sh writes the whole file itself.
update_env() {
  local file=$REPO_ROOT/test/.cluster/env lines keys
  [ -f "$file" ] || { log "no $file yet; up.sh writes it with these keys"; return 0; }
  lines=$(test_tools_env)
  keys=$(cut -d= -f1 <<<"$lines" | paste -sd'|')
  { grep -Ev "^($keys)=" "$file" || true; echo "$lines"; } | write_if_changed "$file"
}

started=$SECONDS
phase "Debian test packages (wrk, dnsperf)" install_test_packages
phase "grpcurl $GRPCURL_VERSION" build_grpcurl
phase "ktx-testserver $(testserver_hash)" build_testserver
phase "image $(testserver_image)" import_testserver_image
update_env
log "e2e tools ready in $((SECONDS - started))s"
