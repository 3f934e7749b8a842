#!/usr/bin/env bash
# Runs the Node-side test projects (fixed, relaxed) under the other Node versions we
# support: 22 and 24 by default, or the versions given as arguments. Each Node comes from
# the npm registry's node-<platform>-<arch> package (a plain binary, no install script),
# cached by npx, so nothing is fetched from outside the registry. vitest itself runs on
# that Node, so the test workers do too. Node >= 22 has relaxed SIMD on by default and
# rejects --experimental-wasm-relaxed-simd: vitest.config.ts passes it on Node 20 only.
# Expects a built dist/ (`npm run test:node-versions` builds first).
set -euo pipefail
cd "$(dirname "$0")/.."

versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(22.23.3 24.21.0)
package="node-$(node -p 'process.platform + "-" + process.arch')"

# The browser projects are not run here, so a missing Chromium must not fail the config.
unset SIMD_LINEAR_REQUIRE_BROWSER

# Every version runs even when one fails; the exit status says whether all passed.
failed=()
for version in "${versions[@]}"; do
  node_at() { npx --yes --package "$package@$version" -- node "$@"; }
  actual=$(node_at --version)
  if [ "$actual" != "v$version" ]; then
    echo "test-node-versions: asked for Node $version, npx ran $actual" >&2
    exit 1
  fi
  echo "== Node $version: vitest --project fixed --project relaxed"
  start=$SECONDS
  if node_at node_modules/vitest/vitest.mjs run --project fixed --project relaxed; then
    echo "== Node $version: passed in $((SECONDS - start)) s"
  else
    echo "== Node $version: FAILED after $((SECONDS - start)) s"
    failed+=("$version")
  fi
done
[ ${#failed[@]} -eq 0 ] || { echo "test-node-versions: failed on Node ${failed[*]}" >&2; exit 1; }
