#!/usr/bin/env bash
# Runs every test of the project on a fresh machine: installs Node 24 and the dependencies, builds,
# lints, runs the unit and integration suites, brings the local Kubernetes up when it is not up
# (building its binaries into the machine-wide cache on first use), imports the shadow image and
# runs the e2e suites against the cluster from the laptop namespace. Needs root (Linux).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
[ "$(id -u)" = 0 ] || { echo "test: the e2e suites start a cluster and network namespaces; run as root (sudo $0)" >&2; exit 1; }

started=$SECONDS
step() { echo "==> $* (at $((SECONDS - started))s)" >&2; }

step "Node.js 24"
node_bin=$(scripts/ensure-node.sh)
PATH="$node_bin:$PATH"
# Native addons (ssh2's crypto) must build against Node 24's headers, not a system Node's.
export npm_config_nodedir=${node_bin%/bin}
export PATH
node --version

step "dependencies"
npm ci --no-audit --no-fund

step "build, lint, typecheck"
npm run build
npm run lint
npm run typecheck

step "local Kubernetes"
bash test/cluster/up.sh
bash packages/shadow-image/scripts/import-local.sh

step "tests (unit, integration, e2e)"
report=$(mktemp --suffix=.json)
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" || status=$?
# vitest's own summary is not a closing line CI reads, so say it plainly.
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))
  // A file that fails outside any test (a hook, an import) counts as one failure of its own.
  const brokenFiles = r.testResults.filter(
    (f) => f.status === "failed" && !f.assertionResults.some((t) => t.status === "failed"),
  ).length
  const failed = r.numFailedTests + brokenFiles
  console.log(`${r.numPassedTests} passed, ${failed} failed, ${r.numPendingTests + r.numTodoTests} skipped`)
  if (r.numTotalTests === 0 || failed > 0) process.exit(1)
' "$report" || status=1
step "done; the cluster stays up for the next run ('npm run cluster:down' stops it)"
exit $status
